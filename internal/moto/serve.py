"""Start moto's server with DynamoDB writes made atomic.

DynamoDB applies each conditional write, and each transaction, as one
atomic step. moto's threaded server does not: two concurrent conditional
updates of one item can both read it, both pass their condition and the
later write loses the earlier one. Cascade's status transitions rely on
that atomicity, so this launcher serialises moto's DynamoDB writes with
one lock and then runs moto's own server entry point unchanged.
"""

import functools
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()


def _atomic(method):
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)

    return run


for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    main()
