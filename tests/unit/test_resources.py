"""Process-wide shared resources: one build per key, and models kept out of the cyclic GC's walks."""
from __future__ import annotations

import gc
import threading

from archiefstroom.transforms import resources


def test_one_build_per_key_across_threads():
    builds = []

    def factory():
        builds.append(1)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(resources.shared(("test", "once"), factory)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len({id(x) for x in got}) == 1


def test_a_long_lived_model_moves_to_the_permanent_generation():
    before = gc.get_freeze_count()
    model = resources.shared(("test", "model"), lambda: {"lookup": [[i] for i in range(1000)]}, long_lived=True)
    assert gc.get_freeze_count() >= before + 1000          # the model's lists are frozen ...
    assert not any(o is model for o in gc.get_objects())   # ... and no longer walked by collections
    plain = resources.shared(("test", "client"), lambda: {"x": [1]})
    assert any(o is plain for o in gc.get_objects())
