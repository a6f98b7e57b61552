"""`make bench` rewrites BENCHMARKS.md's measured table; the hand-written sections below it stay."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(ROOT, "bench", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hand_written_sections_stay_and_preflight_is_left_to_its_own_script():
    bench = load_bench()
    old = ("# vpce-doctor benchmarks\n\n| figure | measured |\n|---|---|\n| 1. | 0.39 s |\n\nNotes:\n- floor\n\n"
           "## The image pull (issue 20)\n\none World, 8 runs\n\n## Preflight\n\n| figure |\n|---|\n\n"
           "## Real AWS on the wire (issue 18)\n\n| tree | wall |\n")
    kept = bench.kept_sections(old)
    assert "## The image pull (issue 20)\n\none World, 8 runs\n" in kept
    assert "## Real AWS on the wire (issue 18)\n\n| tree | wall |\n" in kept
    assert "Preflight" not in kept and "0.39 s" not in kept and "Notes:" not in kept
    assert bench.kept_sections("# vpce-doctor benchmarks\n\n| a |\n") == ""


def test_the_real_file_keeps_its_sections():
    bench = load_bench()
    with open(os.path.join(ROOT, "BENCHMARKS.md")) as handle:
        kept = bench.kept_sections(handle.read())
    assert "## The image pull (issue 20)" in kept and "## Real AWS on the wire (issue 18)" in kept
