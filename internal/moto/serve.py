"""Start moto's server with DynamoDB writes made atomic and cheap.

DynamoDB applies each conditional write, and each transaction, as one
atomic step. moto's threaded server does not: two concurrent conditional
updates of one item can both read it, both pass their condition and the
later write loses the earlier one. Cascade's status transitions rely on
that atomicity, so this launcher serialises moto's DynamoDB writes with
one lock and then runs moto's own server entry point unchanged.

moto also deep-copies every table a transaction touches, stream records
included, before each TransactWriteItems, so that it can roll back a
transaction whose condition fails after earlier items were written. The
copy grows with the table and made a 1,000-recipient campaign take
seconds per write; worse, a rollback swaps in the copied table, whose
stream no open shard iterator sees again. Under the lock, the launcher
first checks every condition of the transaction against the current
items: when one fails it cancels the transaction, with the reasons moto
would give, before anything is written; when all hold, nothing can need
rolling back, so moto runs without the copy.

moto finds the service behind every request by trying a few hundred
URL patterns; the launcher remembers the answer per host name. And its
Step Functions engine builds a new boto3 client for every service call
a state makes, which costs more than the call; the launcher keeps one
client per region and service (boto3 clients are thread-safe). Most
of all, that engine parses the state machine's definition again, with a
pure-Python ANTLR parser, for every execution it starts; the launcher
keeps each definition's syntax tree and only builds fresh evaluation
components from it, so executions still share no state.
"""

import functools
import threading

import copy

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client

_lock = threading.RLock()


def _atomic(method):
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)

    return run





class _CopyWithoutTables:
    """The copy module, except that a Table is not copied."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_FAST_COPY = _CopyWithoutTables()


def _condition_failures(backend, transact_items):
    """Return moto's cancellation reasons when a condition fails, else
    None. Anything unexpected is left for moto itself to report."""
    reasons = []
    failed = False
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        condition = op.get("ConditionExpression")
        if condition is None:
            reasons.append((None, None, None))
            continue
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        check = dynamodb_models.get_filter_expression(
            condition,
            op.get("ExpressionAttributeNames"),
            op.get("ExpressionAttributeValues"),
        )
        if check.expr(backend.get_item(op["TableName"], key)):
            reasons.append((None, None, None))
        else:
            failed = True
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", None))
    return reasons if failed else None


_transact = DynamoDBBackend.transact_write_items


def _transact_without_copy(self, transact_items):
    try:
        reasons = _condition_failures(self, transact_items)
    except Exception:
        reasons, fast = None, False
    else:
        fast = True
    if reasons is not None:
        raise TransactionCanceledException(reasons)
    dynamodb_models.copy = _FAST_COPY if fast else copy
    try:
        return _transact(self, transact_items)
    finally:
        dynamodb_models.copy = copy


DynamoDBBackend.transact_write_items = _transact_without_copy

for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))

_find_backend = DomainDispatcherApplication.get_backend_for_host
_backends = {}


def _remembered_backend(self, host):
    if host is None:
        return None
    if host not in _backends:
        _backends[host] = _find_backend(self, host)
    return _backends[host]


DomainDispatcherApplication.get_backend_for_host = _remembered_backend

_new_client = sfn_boto_client.boto_client_for
_clients = {}
_clients_lock = threading.Lock()


def _shared_client(region, service, state_credentials=None):
    with _clients_lock:
        if (region, service) not in _clients:
            _clients[(region, service)] = _new_client(region, service, state_credentials)
        return _clients[(region, service)]


sfn_boto_client.boto_client_for = _shared_client

_parse = asl_parser.AmazonStateLanguageParser.parse
_trees = {}
_trees_lock = threading.Lock()


def _parse_once(definition):
    with _trees_lock:
        tree = _trees.get(definition)
    if tree is None:
        _, tree = _parse(definition)
        with _trees_lock:
            _trees[definition] = tree
    return Preprocessor().visit(tree), tree


asl_parser.AmazonStateLanguageParser.parse = staticmethod(_parse_once)

if __name__ == "__main__":
    main()
