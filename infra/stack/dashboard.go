package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/cascade-oss/cascade/internal/channel"
)

// Metrics the functions emit in Embedded Metric Format, each with a
// Channel dimension.
const (
	metricNamespace = "Cascade"
	rejectedMetric  = "WebhookRejected"
	// rejectedThreshold rejected webhook calls in five minutes
	// mean a wrong secret or someone probing a public URL; a
	// stray one does not page.
	rejectedThreshold = 10
)

// journeyMetrics are graphed per channel.
var journeyMetrics = []string{"Sent", "Delivered", "Read", "Failed", "MovedOn"}

func metricPeriod() awscdk.Duration {
	return awscdk.Duration_Minutes(jsii.Number(5))
}

// newDashboard declares the dashboard and the alarms on failed
// executions and on webhook rejections.
func newDashboard(s awscdk.Stack, sm awsstepfunctions.StateMachine) {
	// TODO(cascade): alarms have no action yet; add an SNS topic
	// or the on-call tool's integration when someone owns paging.
	failed := sm.MetricFailed(&awscloudwatch.MetricOptions{Period: metricPeriod()})
	alarms := []interfacesawscloudwatch.IAlarmRef{
		newAlarm(s, "ExecutionsFailedAlarm", failed, 1,
			"Cascade executions failed: something broke, not an unreached recipient."),
	}
	graphs := []awscloudwatch.IWidget{}
	rejected := []awscloudwatch.IMetric{}
	for _, c := range channel.All {
		graphs = append(graphs, channelGraph(c))
		rejected = append(rejected, channelMetric(rejectedMetric, c, string(c)))
		alarms = append(alarms, newAlarm(s, specs[webhookName(c)].id+"RejectedAlarm",
			channelMetric(rejectedMetric, c, ""), rejectedThreshold,
			string(c)+" webhook calls are being rejected."))
	}

	d := awscloudwatch.NewDashboard(s, jsii.String("Dashboard"), nil)
	d.AddWidgets(graphs...)
	d.AddWidgets(
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Webhook calls rejected"),
			Left:  &rejected,
			Width: jsii.Number(12),
		}),
		awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title:  jsii.String("Alarms"),
			Alarms: &alarms,
			Width:  jsii.Number(12),
		}),
	)
}

// newAlarm fires when m reaches threshold in one period; no data is
// not a breach.
func newAlarm(s awscdk.Stack, id string, m awscloudwatch.IMetric, threshold float64,
	desc string) awscloudwatch.Alarm {
	return awscloudwatch.NewAlarm(s, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             m,
		AlarmDescription:   jsii.String(desc),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// channelGraph plots the journey metrics of one channel.
func channelGraph(c channel.Channel) awscloudwatch.GraphWidget {
	left := make([]awscloudwatch.IMetric, 0, len(journeyMetrics))
	for _, name := range journeyMetrics {
		left = append(left, channelMetric(name, c, name))
	}
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(string(c)),
		Left:  &left,
		Width: jsii.Number(8),
	})
}

// channelMetric is the sum of metric name on channel c, labelled for
// a graph unless label is empty (an alarm takes no label).
func channelMetric(name string, c channel.Channel, label string) awscloudwatch.Metric {
	props := &awscloudwatch.MetricProps{
		Namespace:     jsii.String(metricNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"Channel": jsii.String(string(c))},
		Statistic:     jsii.String("Sum"),
		Period:        metricPeriod(),
	}
	if label != "" {
		props.Label = jsii.String(label)
	}
	return awscloudwatch.NewMetric(props)
}
