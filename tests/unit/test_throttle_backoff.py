"""Throttled answers are retried after a pause, a bounded number of times, inside the deadline."""
from vpce_doctor.checks.probes.inventory import BACKOFF, backoff_pause


def test_pause_grows_and_never_outlives_the_deadline():
    assert backoff_pause(0, remaining=10.0, step_timeout=1.0) <= BACKOFF[0]
    assert backoff_pause(len(BACKOFF), remaining=10.0, step_timeout=1.0) is None
    assert backoff_pause(0, remaining=1.05, step_timeout=1.0) is None  # no room for pause + call


# A throttled API probe is retried once inside the deadline by probes/aws_call.call itself
# (tests/faults: the HTTP/API throttling rows); the inventory's EC2 reads use backoff_pause.
