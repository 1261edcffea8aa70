// Package templatetests checks the CloudFormation template of
// Cascade's production stack (infra/stack): a golden copy, intent
// checks that name the resource at fault, cdk-nag's AwsSolutions
// pack, the npm asl-validator on the state machine definition and
// cfn-lint on the whole template. It holds tests only; run them with
// `go test ./template-tests` (-update rewrites the golden file).
package templatetests
