package meter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Final is an item as the table held it at the end of a run.
type Final struct {
	Size int
	// Indexed items carry the byMessage index's key, so every write
	// to them writes the index too.
	Indexed bool
}

// indexKey is the attribute the table's one index is keyed on.
const indexKey = "msgKey"

// ddbCall is what one DynamoDB request costs: write units priced from
// the items it carried, writes to price from the items' final sizes,
// and read units from the items it returned.
type ddbCall struct {
	op      string
	wru     float64
	pending []pendingWrite
	rru     float64
}

type pendingWrite struct {
	key string
	txn bool
	op  string
}

// ledger sums DynamoDB units over a run.
type ledger struct {
	wru, rru float64
	byOp     map[string]float64 // write units priced so far, by operation
	pending  map[pendingWrite]int64
}

func newLedger() ledger {
	return ledger{byOp: map[string]float64{}, pending: map[pendingWrite]int64{}}
}

func (l *ledger) add(c ddbCall) {
	l.wru += c.wru
	l.byOp[c.op] += c.wru
	l.rru += c.rru
	for _, p := range c.pending {
		l.pending[p]++
	}
}

// units returns the run's write and read units, and the write units
// by operation.
func (l *ledger) units(final map[string]Final) (wru, rru float64, byOp map[string]float64) {
	wru, byOp = l.wru, map[string]float64{}
	for k, v := range l.byOp {
		if v > 0 {
			byOp[k] = v
		}
	}
	for p, n := range l.pending {
		f := final[p.key]
		u := writeUnits(f.Size, p.txn)
		if f.Indexed {
			u += writeUnits(f.Size, false)
		}
		wru += u * float64(n)
		byOp[p.op] += u * float64(n)
	}
	return wru, l.rru, byOp
}

type item = map[string]json.RawMessage

// parseDynamo prices one request from its body and answer.
func parseDynamo(op string, body, answer []byte) ddbCall {
	c := ddbCall{op: op}
	var in struct {
		Item           item
		Key            item
		ConsistentRead bool
		RequestItems   map[string][]struct {
			PutRequest    *struct{ Item item }
			DeleteRequest *struct{ Key item }
		}
		TransactItems []struct {
			Put            *struct{ Item item }
			Update, Delete *struct{ Key item }
			ConditionCheck *struct{ Key item }
		}
	}
	_ = json.Unmarshal(body, &in)
	switch op {
	case "PutItem":
		c.put(in.Item, false)
	case "UpdateItem", "DeleteItem":
		c.pending = append(c.pending, pendingWrite{key: keyOf(in.Key), op: op})
	case "BatchWriteItem":
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					c.put(r.PutRequest.Item, false)
				} else if r.DeleteRequest != nil {
					c.pending = append(c.pending, pendingWrite{key: keyOf(r.DeleteRequest.Key), op: op})
				}
			}
		}
	case "TransactWriteItems":
		for _, t := range in.TransactItems {
			switch {
			case t.Put != nil:
				c.put(t.Put.Item, true)
			case t.Update != nil:
				c.pending = append(c.pending, pendingWrite{key: keyOf(t.Update.Key), txn: true, op: op})
			case t.Delete != nil:
				c.pending = append(c.pending, pendingWrite{key: keyOf(t.Delete.Key), txn: true, op: op})
			case t.ConditionCheck != nil:
				c.pending = append(c.pending, pendingWrite{key: keyOf(t.ConditionCheck.Key), txn: true, op: op})
			}
		}
	default:
		c.rru = readCost(op, in.ConsistentRead, answer)
	}
	return c
}

func (c *ddbCall) put(it item, txn bool) {
	size := ItemSize(it)
	c.wru += writeUnits(size, txn)
	if _, ok := it[indexKey]; ok {
		c.wru += writeUnits(size, false)
	}
}

// readCost prices a read from the items it returned. A query is
// priced on the items it matched; a filter is not used by Cascade.
func readCost(op string, consistent bool, answer []byte) float64 {
	var out struct {
		Item      item
		Items     []item
		Responses json.RawMessage
	}
	_ = json.Unmarshal(answer, &out)
	switch op {
	case "GetItem":
		return readUnits(ItemSize(out.Item), consistent, false)
	case "Query", "Scan":
		total := 0
		for _, it := range out.Items {
			total += ItemSize(it)
		}
		return readUnits(total, consistent, false)
	case "BatchGetItem":
		var byTable map[string][]item
		_ = json.Unmarshal(out.Responses, &byTable)
		u := 0.0
		for _, items := range byTable {
			for _, it := range items {
				u += readUnits(ItemSize(it), consistent, false)
			}
		}
		return u
	case "TransactGetItems":
		var got []struct{ Item item }
		_ = json.Unmarshal(out.Responses, &got)
		u := 0.0
		for _, g := range got {
			u += readUnits(ItemSize(g.Item), true, true)
		}
		return u
	}
	return 0
}

// keyOf joins an item's string keys pk and sk.
func keyOf(k item) string {
	var pk, sk struct{ S string }
	_ = json.Unmarshal(k["pk"], &pk)
	_ = json.Unmarshal(k["sk"], &sk)
	return pk.S + "\x00" + sk.S
}

// FinalItems scans table with db, a client that does not go through
// the meter, and sizes every item.
func FinalItems(ctx context.Context, db *dynamodb.Client, table string) (map[string]Final, error) {
	out := map[string]Final{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			pk, _ := it["pk"].(*types.AttributeValueMemberS)
			sk, _ := it["sk"].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil {
				continue
			}
			_, indexed := it[indexKey]
			out[pk.Value+"\x00"+sk.Value] = Final{Size: avItemSize(it), Indexed: indexed}
		}
	}
	return out, nil
}

// avItemSize is ItemSize for an item the SDK decoded.
func avItemSize(it map[string]types.AttributeValue) int {
	n := 0
	for name, v := range it {
		n += len(name) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return len(t.Value)
	case *types.AttributeValueMemberN:
		return numberSize(t.Value)
	case *types.AttributeValueMemberB:
		return len(t.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range t.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range t.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range t.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + avItemSize(t.Value) + len(t.Value)
	case *types.AttributeValueMemberL:
		n := 3 + len(t.Value)
		for _, e := range t.Value {
			n += avSize(e)
		}
		return n
	}
	return 0
}
