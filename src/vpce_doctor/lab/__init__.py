"""The lab: the simulated VPC in network namespaces, served by real unbound, dnsmasq and
nginx, with vpce-doctor run inside the node namespace with its production defaults
(169.254.169.253, 169.254.169.254, /etc/resolv.conf, port 443). Root only; the test
suite and the benchmark use it."""
