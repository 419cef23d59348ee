from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.rollups import RollupChunk, daily_stats_rollup, daily_stats_rollup_touched
from analytics.selectors import daily_stats_between


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
        parser.add_argument("--show", action="store_true", help="print the rows of the days rolled up")

    def handle(self, *args, first_day=None, last_day=None, chunk_days=None, show=False, **options):
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
        if show:
            self._show(result.first_day, result.last_day)

    def _show(self, first_day: date, last_day: date) -> None:
        self.stdout.write(
            f"  {'day':<10} {'product':<8} {'orders':>6} {'units':>7} {'pooled':>6} {'direct':>6} {'rejected':>8}"
            f" {'revenue':>10} {'refunds':>7} {'confirmed':>9} {'review':>6} {'cancelled':>9}"
        )
        for row in daily_stats_between(first_day=first_day, last_day=last_day):
            self.stdout.write(
                f"  {row['day']!s:<10} {row['product_type']:<8} {row['orders_submitted']:>6}"
                f" {row['units_submitted']:>7} {row['orders_pooled']:>6} {row['orders_direct']:>6}"
                f" {row['orders_rejected']:>8}"
                f" {row['revenue']:>10.2f} {row['refunds']:>7} {row['batches_confirmed']:>9}"
                f" {row['batches_sent_to_review']:>6} {row['batches_cancelled']:>9}"
            )

    def _progress(self, chunk: RollupChunk) -> None:
        self.stdout.write(f"rollup: {chunk.first_day} … {chunk.last_day}: {chunk.rows} rows in {chunk.seconds:.2f} s")
        self.stdout.flush()
