package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/report"
)

// ReportLinkTTL is how long a report's download link works.
const ReportLinkTTL = 15 * time.Minute

// Reports serves report requests: it stores a job, queues it for the
// report-export function, and signs a download link once it is ready.
type Reports struct {
	Store interface {
		PutReport(ctx context.Context, j dynamo.ReportJob) error
		Report(ctx context.Context, tenant, campaign, id string) (dynamo.ReportJob, error)
	}
	SQS interface {
		SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	}
	QueueURL string
	Links    interface {
		DownloadURL(ctx context.Context, key string, ttl time.Duration) (string, error)
	}
}

type reportRequest struct {
	Kind string `json:"kind"`
}

type reportView struct {
	dynamo.ReportJob
	URL       string `json:"url,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"`
}

func (a *API) requestReport(ctx context.Context, tenant, id string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if _, err := a.store.Campaign(ctx, tenant, id); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	var body reportRequest
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	kind, err := report.ParseKind(body.Kind)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, invalid([]Problem{{"kind", "must be whatsapp, rcs, sms, journey or rejected"}})
	}
	j := dynamo.ReportJob{ID: a.newID(), Tenant: tenant, Campaign: id, Report: string(kind)}
	if err := a.reports.Store.PutReport(ctx, j); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	msg, _ := json.Marshal(report.Message{Tenant: tenant, Campaign: id, Report: j.ID})
	_, err = a.reports.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(a.reports.QueueURL), MessageBody: aws.String(string(msg)),
	})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("queue report: %w", err)
	}
	j, err = a.reports.Store.Report(ctx, tenant, id, j.ID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return ok(http.StatusAccepted, reportView{ReportJob: j})
}

func (a *API) getReport(ctx context.Context, tenant, id, reportID string) (events.APIGatewayV2HTTPResponse, error) {
	if !ValidID(reportID) {
		return events.APIGatewayV2HTTPResponse{}, errNotFound
	}
	if _, err := a.store.Campaign(ctx, tenant, id); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	j, err := a.reports.Store.Report(ctx, tenant, id, reportID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	v := reportView{ReportJob: j}
	if j.State == dynamo.ReportReady {
		v.URL, err = a.reports.Links.DownloadURL(ctx, j.ObjectKey, ReportLinkTTL)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		v.ExpiresAt = a.now().Add(ReportLinkTTL).UTC().Format(time.RFC3339)
	}
	return ok(http.StatusOK, v)
}
