import pytest

from sleekbatch.flags import SharedFlag


@pytest.fixture
def flag():
    flag = SharedFlag("test:flag", ttl_seconds=30)
    flag.clear()
    yield flag
    flag.clear()


def test_only_the_first_setter_wins_until_it_is_cleared(flag):
    assert flag.set_if_absent() is True
    assert flag.set_if_absent() is False
    assert flag.is_set()
    flag.clear()
    assert not flag.is_set()
    assert flag.set_if_absent() is True


def test_the_flag_expires(settings):
    import time

    flag = SharedFlag("test:expiring", ttl_seconds=1)
    flag.clear()
    assert flag.set_if_absent()
    time.sleep(1.2)
    assert flag.set_if_absent() is True
    flag.clear()
