// Package codec turns tokens into the bytes a secret holds and back, in one
// versioned format shared by every backend.
//
// # Plain format, version 1
//
// A plain value is one JSON object, readable in a secret manager's console.
// Its first member is the format version; "ns" and "id" bind the value to its
// secret; the token's fields follow with the Zoho SDKs' names and are left
// out when empty:
//
//	{"v":1,"ns":"crm","id":"k3x...","user_name":"ada@example.com:123",
//	 "client_id":"...","client_secret":"...","refresh_token":"...",
//	 "access_token":"...","grant_token":"...","expiry_time":1767225600123,
//	 "redirect_url":"...","api_domain":"https://www.zohoapis.com",
//	 "token_type":"Bearer","scope":"...","id_token":"...",
//	 "extra":{"key":"value"}}
//
// expiry_time is the access token's expiry in epoch milliseconds (Zoho keeps
// the same number as a string); a zero expiry is left out, and any other is
// kept, the epoch itself included. Strings are UTF-8 text, written without
// HTML escaping; Encode refuses a token whose text is not UTF-8 (with
// ErrInvalidField) rather than let encoding/json replace bytes of a secret.
//
// Decoding is strict: a value must start with '{', carry "v":1, hold each
// member at most once, spelled as above (JSON names are case-sensitive;
// encoding/json alone would not check that), with a string, integer or object
// of strings as shown and never null, hold no member the version does not
// define, and name the secret it is read from. Otherwise Decode returns an
// error wrapping tokenstore.ErrCorrupt and one of ErrTruncated, ErrMalformed,
// ErrUnknownVersion or ErrWrongSecret. It never panics, whatever the input
// (see FuzzDecode).
package codec
