package wxapi

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Errors WeChat answers that callers act on; an *APIError matches them
// with errors.Is.
var (
	ErrTokenInvalid    = errors.New("access token invalid or expired (40001/42001)")
	ErrAPIQuota        = errors.New("the account's daily call quota for this API is used up (45009)")
	ErrUnauthorized    = errors.New("the account is not authorised for this API (48001): check its type and verification")
	ErrIPWhitelist     = errors.New("this server's IP address is not on the account's API whitelist (40164)")
	ErrInvalidOpenID   = errors.New("openid does not follow this account (40003)")
	ErrOutsideWindow   = errors.New("the user has not messaged within 48 hours (45015)")
	ErrTooManyMessages = errors.New("customer-service messages to this user used up until the user writes again (45047)")
	ErrMassQuota       = errors.New("no mass-send quota left (45028)")
	ErrClientMsgIDUsed = errors.New("clientmsgid already used: the mass send was made before (45065)")
	ErrInvalidTag      = errors.New("no such user tag (45159)")
	ErrInvalidMedia    = errors.New("invalid media_id (40007): the draft or its cover is unknown to WeChat")
)

var codeErrors = map[int]error{
	40001: ErrTokenInvalid,
	42001: ErrTokenInvalid,
	45009: ErrAPIQuota,
	48001: ErrUnauthorized,
	40164: ErrIPWhitelist,
	40003: ErrInvalidOpenID,
	45015: ErrOutsideWindow,
	45047: ErrTooManyMessages,
	45028: ErrMassQuota,
	45065: ErrClientMsgIDUsed,
	45159: ErrInvalidTag,
	40007: ErrInvalidMedia,
}

// APIError is a non-zero errcode from WeChat.
type APIError struct {
	API  string // e.g. "message/custom/send"
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	if known := codeErrors[e.Code]; known != nil {
		return fmt.Sprintf("wechat %s: %v: %s", e.API, known, e.Msg)
	}
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// Is matches the sentinel errors above.
func (e *APIError) Is(target error) bool {
	known := codeErrors[e.Code]
	return known != nil && known == target
}

// Code returns the WeChat errcode in err's chain, or 0.
func Code(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// Reason is what a client may be shown of a failed WeChat call: WeChat's
// own answer (API, errcode, message) when there is one, else a fixed
// sentence. Transport errors carry the API base's host and port, which
// belong in the server log, not in a response body.
func Reason(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return "the WeChat API did not answer (details in the server log)"
}

// Fatal reports whether err means no further call of this kind can
// succeed now (quota, permission, whitelist): a job must stop, not carry
// on recipient by recipient.
func Fatal(err error) bool {
	return errors.Is(err, ErrAPIQuota) || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrIPWhitelist)
}

var sdkErrcode = regexp.MustCompile(`errcode=(-?\d+)\s*,\s*errormsg=(.*)$`)

// fromSDK turns silenceper's formatted token errors into an *APIError.
func fromSDK(api string, err error) error {
	if m := sdkErrcode.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return &APIError{API: api, Code: code, Msg: m[2]}
	}
	return fmt.Errorf("wechat %s: %w", api, err)
}
