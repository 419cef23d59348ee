from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.rollups import RollupChunk, daily_stats_rollup, daily_stats_rollup_touched


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = (
        "Roll business events up into DailyStats for the days from --from to --to (inclusive), "
        "or, with neither, for the days touched since the last incremental run (what beat runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first_day", type=_day, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last_day", type=_day, help="last day, YYYY-MM-DD (default: --from)")
        parser.add_argument("--chunk-days", type=int, default=None, help="days per statement (ROLLUP_CHUNK_DAYS)")

    def handle(self, *args, first_day=None, last_day=None, chunk_days=None, **options):
        if chunk_days is not None and chunk_days < 1:
            raise CommandError("--chunk-days must be at least 1")
        if first_day is None and last_day is not None:
            raise CommandError("--to needs --from")
        if first_day is None:
            result = daily_stats_rollup_touched(progress=self._progress)
        else:
            last_day = last_day or first_day
            if last_day < first_day:
                raise CommandError("--to is before --from")
            result = daily_stats_rollup(
                first_day=first_day, last_day=last_day, chunk_days=chunk_days, progress=self._progress
            )
        if result.days == 0:
            self.stdout.write("rollup: no day to roll up")
            return
        self.stdout.write(
            f"rollup: {result.days} days ({result.first_day} … {result.last_day}), "
            f"{result.rows} rows in {result.seconds:.2f} s"
        )

    def _progress(self, chunk: RollupChunk) -> None:
        self.stdout.write(f"rollup: {chunk.first_day} … {chunk.last_day}: {chunk.rows} rows in {chunk.seconds:.2f} s")
        self.stdout.flush()
