"""The LLM's default thread count leaves out cores another process keeps busy."""

from generation.backends import threads


def readings(*steps):
    """Successive /proc/stat readings: per core (busy, total) jiffies."""
    pending = list(steps)
    return lambda: pending.pop(0)


def test_a_busy_core_is_left_out(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: [0, 1])
    read = readings({0: (100, 1000), 1: (100, 1000)}, {0: (108, 1010), 1: (101, 1010)})  # core 0 80% busy
    assert threads.free_core_count(read=read, sleep=lambda s: None) == 1


def test_idle_cores_are_all_used(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: [0, 1, 2, 3])
    before = {c: (50, 500) for c in range(4)}
    after = {c: (51, 510) for c in range(4)}
    assert threads.free_core_count(read=readings(before, after), sleep=lambda s: None) == 4


def test_never_fewer_than_one_thread(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: [0, 1])
    before = {0: (0, 100), 1: (0, 100)}
    after = {0: (10, 110), 1: (10, 110)}
    assert threads.free_core_count(read=readings(before, after), sleep=lambda s: None) == 1


def test_no_proc_stat_means_every_usable_core(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: [0, 1, 2])
    assert threads.free_core_count(read=lambda: {}, sleep=lambda s: None) == 3


def test_an_explicit_count_is_kept():
    assert threads.choose_threads(3) == 3


def test_proc_stat_is_read_per_core(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  10 0 10 100 5 0 0 0 0 0\ncpu0 4 0 6 50 2 0 0 0 0 0\ncpu1 6 0 4 50 3 0 0 0 0 0\nintr 1\n")
    times = threads.read_cpu_times(str(stat))
    assert times == {0: (10, 62), 1: (10, 63)}
