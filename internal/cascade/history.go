package cascade

import (
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Path returns the names of the states an execution entered, in the
// order of its history (GetExecutionHistory, oldest first).
func Path(history []types.HistoryEvent) []string {
	var names []string
	for _, e := range history {
		// Only the *StateEntered events carry these details.
		if d := e.StateEnteredEventDetails; d != nil && d.Name != nil {
			names = append(names, *d.Name)
		}
	}
	return names
}

// Transitions counts the states an execution entered: the state
// transitions Step Functions bills a Standard workflow for.
func Transitions(history []types.HistoryEvent) int {
	return len(Path(history))
}
