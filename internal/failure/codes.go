package failure

import "strconv"

// The tables below map each provider's error codes to a class. They are
// data taken from shared/reference/provider-contracts.md (sections 1.5,
// 2.4 and 3.2); the classes are our own reading of each code's meaning.

// whatsAppCodes maps WhatsApp Cloud API error codes (the integer "code"
// of the Graph error envelope or of statuses[].errors[]).
var whatsAppCodes = map[int]Rule{
	131026: {FallbackNow, "not on WhatsApp or cannot receive"},
	131049: {FallbackNow, "per-user marketing limit"},
	131050: {FallbackNow, "user stopped marketing messages"},
	130472: {FallbackNow, "user in a marketing experiment"},
	130403: {FallbackNow, "business blocked this user"},
	131048: {FallbackNow, "spam rate limit on the sender"},
	131064: {FallbackNow, "messaging limit for template violations"},
	131056: {Retry, "pair rate limit"},
	130429: {Retry, "throughput limit"},
	4:      {Retry, "app call rate limit"},
	80007:  {Retry, "account rate limit"},
	131057: {Retry, "account in maintenance"},
	131000: {Retry, "unknown provider error"},
	131016: {Retry, "service temporarily unavailable"},
	133004: {Retry, "server temporarily unavailable"},
	1:      {Retry, "invalid request or server error"},
	2:      {Retry, "temporary downtime"},
	131047: {ConfigError, "service window closed"},
	132000: {ConfigError, "template parameter count mismatch"},
	132001: {ConfigError, "template missing or not approved"},
	132005: {ConfigError, "translated text too long"},
	132007: {ConfigError, "template violates policy"},
	132012: {ConfigError, "template parameter format"},
	132015: {ConfigError, "template paused"},
	132016: {ConfigError, "template disabled"},
	132018: {ConfigError, "template parameter validation"},
	131063: {ConfigError, "marketing disabled for the account"},
	100:    {ConfigError, "invalid parameter"},
	131008: {ConfigError, "missing required parameter"},
	131009: {ConfigError, "invalid parameter value"},
	131051: {ConfigError, "unsupported message type"},
	131053: {ConfigError, "media upload failed"},
	135000: {ConfigError, "unknown parameter error"},
	190:    {ConfigError, "access token expired"},
	0:      {ConfigError, "authentication failed"},
	3:      {ConfigError, "capability missing"},
	10:     {ConfigError, "permission missing"},
	131005: {ConfigError, "permission denied"},
	368:    {ConfigError, "account restricted"},
	131031: {ConfigError, "account locked"},
	130497: {ConfigError, "country restricted"},
	131042: {ConfigError, "billing problem"},
	131045: {ConfigError, "number not registered"},
	133010: {ConfigError, "number not registered"},
	131037: {ConfigError, "display name not approved"},
	131030: {ConfigError, "recipient not in allowed list"},
	131021: {Final, "sender and recipient are the same"},
}

// WhatsApp classifies a WhatsApp Cloud API error code. Permission codes
// 200 to 299 are config errors; a code not in the table falls back, so
// an unknown failure never strands a recipient.
func WhatsApp(code int) Rule {
	if r, ok := whatsAppCodes[code]; ok {
		return r
	}
	if code >= 200 && code <= 299 {
		return Rule{ConfigError, "permission missing"}
	}
	return Rule{FallbackNow, "unclassified WhatsApp error " + strconv.Itoa(code)}
}

// RBM classifies the HTTP status of a failed Google RBM call. 404 means
// the number cannot receive RCS; throttling and server errors are safe
// to retry because RBM ignores a repeated messageId.
func RBM(httpStatus int) Rule {
	switch {
	case httpStatus == 404:
		return Rule{FallbackNow, "not RCS-capable"}
	case httpStatus == 400:
		return Rule{FallbackNow, "feature not supported by the device"}
	case httpStatus == 401 || httpStatus == 403:
		return Rule{ConfigError, "agent credentials refused"}
	case httpStatus == 429 || httpStatus >= 500:
		return Rule{Retry, "RBM busy or unavailable"}
	}
	return Rule{FallbackNow, "unexpected RBM status " + strconv.Itoa(httpStatus)}
}

// RBMExpired is the rule for an RBM message whose time to live ran out
// and was revoked before delivery.
var RBMExpired = Rule{FallbackNow, "expired before delivery"}

// msg91Reports maps MSG91 delivery-report status codes other than 1
// (delivered). SMS is usually the last channel, so these end the step.
var msg91Reports = map[string]Rule{
	"2":  {FallbackNow, "SMS failed"},
	"9":  {FallbackNow, "number on DND (NDNC)"},
	"16": {ConfigError, "SMS rejected (DLT or content)"},
	"25": {ConfigError, "SMS rejected (DLT or content)"},
	"17": {FallbackNow, "number blocked"},
}

// MSG91Report classifies an MSG91 delivery-report status code.
// Undocumented codes are treated as failures.
func MSG91Report(code string) Rule {
	if r, ok := msg91Reports[code]; ok {
		return r
	}
	return Rule{FallbackNow, "undocumented SMS status " + code}
}

// MSG91Send classifies a synchronous MSG91 error by the HTTP status and
// the code in its body. Authentication, IP allow-list, balance and
// template problems are config errors; busy servers are retried.
func MSG91Send(httpStatus int, code string) Rule {
	switch {
	case httpStatus == 429 || httpStatus >= 500:
		return Rule{Retry, "MSG91 busy or unavailable"}
	case code == "418":
		return Rule{ConfigError, "IP not allow-listed"}
	case code == "301":
		return Rule{ConfigError, "insufficient balance"}
	case code == "311":
		return Rule{Retry, "duplicate request within 10 s"}
	case httpStatus == 401 || code == "401" || code == "207":
		return Rule{ConfigError, "auth key refused"}
	}
	return Rule{ConfigError, "MSG91 refused the request"}
}
