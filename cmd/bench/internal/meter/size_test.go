package meter

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item string
		want int
	}{
		{"string counts name and bytes", `{"a":{"S":"abc"}}`, 4},
		{"number is a byte per two digits plus one", `{"n":{"N":"123"}}`, 1 + 3},
		{"number zeros do not count", `{"n":{"N":"-100.500"}}`, 1 + 3},
		{"bool and null are one byte", `{"ok":{"BOOL":true},"z":{"NULL":true}}`, 3 + 2},
		{"map adds three and one per element", `{"m":{"M":{"a":{"S":"b"}}}}`, 1 + 3 + 2 + 1},
		{"list adds three and one per element", `{"l":{"L":[{"S":"x"},{"N":"1"}]}}`, 1 + 3 + 1 + 2 + 2},
		{"binary is decoded", `{"b":{"B":"AAEC"}}`, 1 + 3},
		{"utf-8 counts bytes", `{"s":{"S":"₹"}}`, 1 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var it item
			if err := json.Unmarshal([]byte(tt.item), &it); err != nil {
				t.Fatal(err)
			}
			if got := ItemSize(it); got != tt.want {
				t.Errorf("ItemSize(%s) = %d, want %d", tt.item, got, tt.want)
			}
		})
	}
}

func TestSDKItemSizeAgrees(t *testing.T) {
	wire := `{"pk":{"S":"C#1"},"n":{"N":"42"},"m":{"M":{"a":{"BOOL":false}}},"l":{"L":[{"S":"xy"}]}}`
	var it item
	if err := json.Unmarshal([]byte(wire), &it); err != nil {
		t.Fatal(err)
	}
	sdk := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "C#1"},
		"n":  &types.AttributeValueMemberN{Value: "42"},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": &types.AttributeValueMemberBOOL{Value: false}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "xy"}}},
	}
	if got, want := avItemSize(sdk), ItemSize(it); got != want {
		t.Errorf("avItemSize = %d, ItemSize = %d; want equal", got, want)
	}
}

func TestUnits(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"a small write is one unit", writeUnits(10, false), 1},
		{"a write just over 1 KB is two", writeUnits(1025, false), 2},
		{"a transactional write doubles", writeUnits(1025, true), 4},
		{"an eventually consistent read is half", readUnits(100, false, false), 0.5},
		{"a consistent read of 5 KB is two", readUnits(5000, true, false), 2},
		{"a transactional read doubles", readUnits(100, true, true), 2},
		{"an empty read still costs", readUnits(0, true, false), 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
