"""The embedded broker: kombu's filesystem transport, with atomic message writes.

kombu's own ``_put`` creates the message file and then writes it, so a consumer
polling the folder can move and read an empty file in between; the worker then
dies on a JSONDecodeError. Here a message is written to a hidden temporary name
(not matched by the consumer's ``*.<queue>.msg`` filter) and renamed into place,
which is atomic within one filesystem.
"""

import os
import uuid
from queue import Empty
from time import monotonic, sleep

from celery.worker import state as worker_state
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        filename = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final_path = os.path.join(self.data_folder_out, filename)
        temp_path = os.path.join(self.data_folder_out, f".{filename}.tmp")
        try:
            with open(temp_path, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temp_path, final_path)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final_path!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout=None):
        """kombu's polling loop, returning at once when the worker has been asked to stop.

        A worker on a polling transport (celery's synloop) asks for up to 2 s of messages at a
        time and looks at a shutdown request only in between, so a warm shutdown waited out the
        rest of that poll first.
        """
        started = monotonic()
        polling_interval = self.polling_interval
        if timeout and polling_interval and polling_interval > timeout:
            polling_interval = timeout
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                if _worker_stopping() or (timeout is not None and monotonic() - started >= timeout):
                    raise TimeoutError() from None
                if polling_interval is not None:
                    sleep(polling_interval)


def _worker_stopping() -> bool:
    return worker_state.should_stop is not None or worker_state.should_terminate is not None
