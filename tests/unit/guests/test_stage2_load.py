"""Module files loaded before the command (kernel mutants): the stage-2 init's lines."""

from harness.guests import stage2


def test_no_module_files_no_lines():
    assert stage2.render_load(()) == ""
    assert "insmod" not in stage2.render_init("/out", "/mod", "true", "/repo", {})


def test_each_module_is_loaded_before_the_command_and_its_failure_stops_the_guest():
    init = stage2.render_init("/out", "/mod", "run-suite", "/repo", {}, load=("/c/a b.ko",))
    assert init.index("insmod '/c/a b.ko'") < init.index("run-suite")
    assert "|| fail_load 'cannot load /c/a b.ko'" in init
    # a failed load writes its own exit code and reason, and never reaches the command
    assert 'echo 125 >"$OUT/exit_code"; off;' in init


def test_the_livepatch_transition_must_finish():
    lines = stage2.render_load(("/k.ko",))
    assert "/sys/kernel/livepatch/*/transition" in lines
    assert 'fail_load "livepatch transition not finished' in lines
