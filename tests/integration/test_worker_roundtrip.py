import uuid

from django.db import connection

from sleekbatch.tasks import ping


def test_a_real_worker_round_trips_a_task_through_redis_and_postgres(workers):
    # given
    workers(count=1, concurrency=2)
    token = uuid.uuid4().hex

    # when
    result = ping.apply_async([token], ignore_result=False).get(timeout=30)

    # then
    assert result["token"] == token
    assert result["vendor"] == "postgresql"
    assert result["database"] == connection.settings_dict["NAME"]
    # worker children keep one persistent connection instead of psycopg's pool
    assert result["pooled"] is False
