"""Every module of the package imports on the Python running the suite. The lab's harness runs only
under make test's 3.11 pass (each lab is built once and runs vpce-doctor on 3.11 and 3.9 inside it), so
the 3.9 suite proves here that the lab's own modules, like all the others, are 3.9-clean."""
import importlib
import pkgutil

import vpce_doctor

# `python -m vpce_doctor` runs the command line on import
RUNS_ON_IMPORT = {"vpce_doctor.__main__"}


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(vpce_doctor.__path__, "vpce_doctor.")
             if m.name not in RUNS_ON_IMPORT]
    for name in names:
        importlib.import_module(name)
    assert {"vpce_doctor.lab.lab", "vpce_doctor.lab.backend", "vpce_doctor.lab.selfcheck"} <= set(names)
