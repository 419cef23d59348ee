from django.apps import AppConfig


class SleekbatchConfig(AppConfig):
    name = "sleekbatch"
    verbose_name = "sleekbatch"

    def ready(self):
        from sleekbatch.authentication import token_cache_connect_invalidation
        from sleekbatch.task_hooks import task_hooks_connect

        task_hooks_connect()
        token_cache_connect_invalidation()
