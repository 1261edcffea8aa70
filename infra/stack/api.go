package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Default-stage throttling for the whole API, per second.
const (
	apiRateLimit  = 100
	apiBurstLimit = 200
)

// newHTTPAPI declares the HTTP API: every /v1 route goes to fn behind
// a JWT authorizer whose issuer and audience are stack parameters.
func newHTTPAPI(s awscdk.Stack, p CascadeStackProps, fn awslambda.Function) {
	issuer := awscdk.NewCfnParameter(s, jsii.String("JwtIssuer"), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Description:    jsii.String("Issuer URL of the identity provider that signs API tokens."),
		AllowedPattern: jsii.String("^https://.+"),
	})
	audience := awscdk.NewCfnParameter(s, jsii.String("JwtAudience"), &awscdk.CfnParameterProps{
		Type:        jsii.String("CommaDelimitedList"),
		Description: jsii.String("Audiences (client ids) an API token may carry."),
	})
	auth := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("Jwt"),
		issuer.ValueAsString(), &awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			JwtAudience: audience.ValueAsList(),
		})

	api := awsapigatewayv2.NewHttpApi(s, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Cascade campaigns, channels, statistics and reports."),
		CreateDefaultStage: jsii.Bool(false),
	})
	logs := awslogs.NewLogGroup(s, jsii.String("HttpApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: p.LogRetention,
	})
	api.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:         jsii.String("$default"),
		AutoDeploy:        jsii.Bool(true),
		AccessLogSettings: &accessLogs{logs: logs},
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(apiRateLimit),
			BurstLimit: jsii.Number(apiBurstLimit),
		},
	})
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/v1/{proxy+}"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Api"), fn, nil),
		Authorizer:  auth,
	})
	awscdk.NewCfnOutput(s, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the HTTP API."),
		Value:       api.ApiEndpoint(),
	})
}

// accessLogs sends the stage's access logs, as JSON, to a log group.
type accessLogs struct {
	logs awslogs.ILogGroup
}

// Destination is the log group.
func (a *accessLogs) Destination() awsapigatewayv2.IAccessLogDestination {
	return awsapigatewayv2.NewLogGroupLogDestination(a.logs)
}

// Format is one JSON object a request, from HTTP API variables.
func (a *accessLogs) Format() awsapigateway.AccessLogFormat {
	return awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat))
}

// accessLogFormat leaves out the path, which carries tenant data.
const accessLogFormat = `{"requestId":"$context.requestId",` +
	`"requestTime":"$context.requestTime",` +
	`"sourceIp":"$context.identity.sourceIp",` +
	`"routeKey":"$context.routeKey",` +
	`"status":"$context.status",` +
	`"responseLength":"$context.responseLength",` +
	`"latency":"$context.responseLatency",` +
	`"authorizerError":"$context.authorizer.error",` +
	`"integrationError":"$context.integrationErrorMessage"}`
