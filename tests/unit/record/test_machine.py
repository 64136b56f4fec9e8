"""Which machine a report came from: overrides first, a digest of machine-id, never the id itself."""

from harness.record import machine


def test_overrides_win_and_blank_ones_count_as_unset(tmp_path):
    mid = tmp_path / "machine-id"
    mid.write_text("0123456789abcdef0123456789abcdef\n")
    given = machine.host({"EPS_HOST_NAME": "lab-7", "EPS_HOST_ID": "rack3-slot2"}, str(mid))
    assert given == {"name": "lab-7", "id": "rack3-slot2"}
    blank = machine.host({"EPS_HOST_NAME": "  ", "EPS_HOST_ID": ""}, str(mid))
    assert blank["name"] and blank["name"].strip() == blank["name"]
    assert blank["id"] == machine.host({}, str(mid))["id"]


def test_the_id_is_a_stable_digest_never_the_machine_id(tmp_path):
    mid = tmp_path / "machine-id"
    mid.write_text("0123456789abcdef0123456789abcdef\n")
    one, two = machine.host({}, str(mid)), machine.host({}, str(mid))
    assert one["id"] == two["id"] and len(one["id"]) == machine.ID_CHARS
    assert one["id"] not in mid.read_text()
    other = tmp_path / "other"
    other.write_text("fedcba9876543210fedcba9876543210\n")
    assert machine.host({}, str(other))["id"] != one["id"]


def test_without_a_machine_id_the_name_decides(tmp_path):
    a = machine.host({"EPS_HOST_NAME": "a"}, str(tmp_path / "absent"))
    b = machine.host({"EPS_HOST_NAME": "b"}, str(tmp_path / "absent"))
    assert a["id"] != b["id"]


def test_a_guest_is_handed_the_hosts_identity(tmp_path):
    env = machine.as_env({"EPS_HOST_NAME": "runner-1", "EPS_HOST_ID": "abc"})
    assert env == {"EPS_HOST_NAME": "runner-1", "EPS_HOST_ID": "abc"}
    assert machine.host(env, str(tmp_path / "absent")) == {"name": "runner-1", "id": "abc"}


def test_run_key_falls_back_for_reports_older_than_the_host_field():
    assert machine.run_key({"host": {"name": "n", "id": "i"}}) == "i"
    assert machine.run_key({"host": {"name": "n"}}) == "n"
    assert machine.run_key({}) == ""
