import os

import pytest
from kombu import Connection

from sleekbatch.celery import app


def test_the_filesystem_broker_never_shows_a_consumer_a_half_written_message(tmp_path, monkeypatch):
    # given a channel whose folder we can watch while a message is being written
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "processed_folder": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }
    seen_while_writing = []
    real_replace = os.replace

    def spying_replace(src, dst):
        seen_while_writing.append(sorted(name for name in os.listdir(tmp_path) if name.endswith(".orders.msg")))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    with Connection("filesystem://", transport_options=options) as conn:
        channel = conn.default_channel
        assert type(channel).__module__ == "sleekbatch.broker"
        # when: a message is put on the queue's folder, as a publish does
        channel._put("orders", {"hello": "world"})
        # then: it was invisible under its final name until complete, and reads back whole
        assert seen_while_writing == [[]]
        assert channel._get("orders") == {"hello": "world"}


def test_the_app_uses_the_atomic_transport_on_the_embedded_default(settings):
    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        pytest.skip("production profile: redis/amqp transports are used as they are")
    with app.connection_for_write() as conn:
        assert type(conn.transport).__module__ == "sleekbatch.broker"
