"""The embedded broker: kombu's filesystem transport, with atomic message writes.

kombu's own ``_put`` creates the message file and then writes it, so a consumer
polling the folder can move and read an empty file in between; the worker then
dies on a JSONDecodeError. Here a message is written to a hidden temporary name
(not matched by the consumer's ``*.<queue>.msg`` filter) and renamed into place,
which is atomic within one filesystem.
"""

import os
import uuid
from time import monotonic

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
