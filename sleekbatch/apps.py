from django.apps import AppConfig


class SleekbatchConfig(AppConfig):
    name = "sleekbatch"
    verbose_name = "sleekbatch"

    def ready(self):
        from django.contrib import admin

        from sleekbatch.authentication import token_cache_connect_invalidation
        from sleekbatch.login_guard import LockoutAdminAuthenticationForm
        from sleekbatch.task_hooks import task_hooks_connect

        task_hooks_connect()
        token_cache_connect_invalidation()
        # Lockout after repeated wrong passwords (sleekbatch/login_guard.py).
        admin.site.login_form = LockoutAdminAuthenticationForm
