import gc

from annotation_api.gc_pause import cyclic_gc_paused


def test_cyclic_gc_paused_restores_the_collector_even_when_nested() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
