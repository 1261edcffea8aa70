package cascade

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

func TestPathAndTransitions(t *testing.T) {
	entered := func(typ types.HistoryEventType, name string) types.HistoryEvent {
		return types.HistoryEvent{Type: typ,
			StateEnteredEventDetails: &types.StateEnteredEventDetails{Name: aws.String(name)}}
	}
	other := func(typ types.HistoryEventType) types.HistoryEvent {
		return types.HistoryEvent{Type: typ}
	}
	tests := []struct {
		name    string
		history []types.HistoryEvent
		want    []string
	}{
		{"empty", nil, nil},
		{"happy path", []types.HistoryEvent{
			other(types.HistoryEventTypeExecutionStarted),
			entered(types.HistoryEventTypeChoiceStateEntered, "Route0"),
			other(types.HistoryEventTypeChoiceStateExited),
			entered(types.HistoryEventTypeTaskStateEntered, "Send0WhatsApp"),
			other(types.HistoryEventTypeTaskScheduled),
			other(types.HistoryEventTypeTaskSucceeded),
			other(types.HistoryEventTypeTaskStateExited),
			entered(types.HistoryEventTypeTaskStateEntered, "Delivered"),
			other(types.HistoryEventTypeExecutionSucceeded),
		}, []string{"Route0", "Send0WhatsApp", "Delivered"}},
		{"wait and fail states count", []types.HistoryEvent{
			entered(types.HistoryEventTypeWaitStateEntered, "Wait1SMS"),
			entered(types.HistoryEventTypeFailStateEntered, "InvalidPlan"),
		}, []string{"Wait1SMS", "InvalidPlan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Path(tt.history)); diff != "" {
				t.Errorf("Path (-want +got):\n%s", diff)
			}
			if got := Transitions(tt.history); got != len(tt.want) {
				t.Errorf("Transitions = %d, want %d", got, len(tt.want))
			}
		})
	}
}
