// Package codec turns tokens into the bytes a secret holds and back, for
// every backend of tokenstore: in a plain, readable JSON format, or sealed by
// envelope encryption so that only holders of a key can read or change them.
//
// To seal, give a Store a codec made by New with a key wrapper; here a local
// 256-bit key (made with `openssl rand -base64 32`), where production would
// rather use a key service's wrapper:
//
//	w, err := codec.NewLocalKeyWrapperBase64(os.Getenv("TOKEN_KEY"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
//	if err != nil {
//		log.Fatal(err)
//	}
//	store, err := tokenstore.New(memstore.New(), tokenstore.Options{
//		IndexKey: indexKey,
//		Codec:    c,
//	})
//
// codec.Plain() is the codec without encryption. Both tell the two formats
// apart by their first byte: '{' is plain, "tokenstore-sealed:" is sealed.
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
// define, and name the secret it is read from. Only white space may follow.
//
// # Sealed format, version 1
//
// A sealed value is the text "tokenstore-sealed:" followed by base64url
// without padding (text, because Vault KV and AWS SecretString hold strings)
// of:
//
//	version        1 byte: 1
//	key ID         uvarint length, bytes: the KeyWrapper's KeyID
//	wrapped key    uvarint length, bytes: the data key as the wrapper wrapped it
//	namespace      uvarint length, bytes
//	ID             uvarint length, bytes
//	sealed length  uvarint: 12 + len(payload) + 16
//	nonce          12 bytes, random for every value
//	ciphertext     AES-256-GCM of the payload under the data key, then its
//	               16-byte tag; the additional data is the prefix text and
//	               every byte above, from version to sealed length
//
// The payload is the token in a compact binary encoding rather than JSON:
// nobody reads it in a console, and parsing JSON would cost more than all
// the cryptography. It is a sequence of fields in increasing tag order, each
// present only when set: tags 1 to 6 and 8 to 12 are the strings user_name,
// client_id, client_secret, refresh_token, access_token, grant_token,
// redirect_url, api_domain, token_type, scope and id_token (uvarint length,
// bytes); tag 7 is expiry_time (signed varint of epoch milliseconds); tag 13,
// repeated, is one entry of extra (uvarint length and key, uvarint length
// and value), in key order. It has no version of its own.
//
// The data key is wrapped with the additional data (a key service's
// "encryption context") "tokenstore/codec/v1 data key; namespace=" and the
// namespace: it cannot name a secret, since one data key seals many values.
// The value's namespace and ID are authenticated by the GCM additional data
// instead. sealed.go explains the design.
//
// # Keys, rotation and key-service calls
//
// Options.Wrappers lists key wrappers; the first wraps every new data key and
// all of them open values that name their key ID. To rotate, put the new key
// first and keep the old ones after it: values sealed under an old key keep
// opening, Stale reports them, and the Store re-seals them under the primary
// on their next save. Retire an old key once no value names it.
//
// A data key seals up to Options.DataKeyMaxUses values of a namespace during
// Options.DataKeyMaxAge, each with a fresh random nonce; readers keep
// unwrapped data keys in a cache of Options.CacheSize entries that expire
// after Options.CacheTTL. So a process calls its key service about once per
// data-key lifetime to write, and once per data key it has not seen lately
// to read, whatever the number of tokens. Neither tink-go's KMS envelope nor
// the AWS Encryption SDK for Go caches data keys.
//
// # Turning sealing on
//
// A sealing codec refuses plain values (ErrNotSealed) unless
// Options.AllowPlain is set: a value the codec did not seal is one that
// anybody with write access to the secret could have written, so accepting
// it silently would undo what sealing vouches for. To seal tokens stored
// before, set AllowPlain; every plain value is then Stale and sealed on its
// next save. Unset it once none is left.
//
// # Errors
//
// Decode never panics, whatever the input (see FuzzDecode). For a value that
// is damaged or misplaced it returns an error wrapping
// tokenstore.ErrCorrupt and one of:
//
//   - ErrTruncated: the value ends early;
//   - ErrMalformed: it is in neither format;
//   - ErrUnknownVersion: it is of a format version this release does not know;
//   - ErrWrongSecret: it was written for another secret or namespace;
//   - ErrTampered: a sealed value fails authentication;
//   - ErrWrongKey: the key a sealed value names does not unwrap its data key.
//
// For an intact value that this codec is not set up to read, the error does
// not wrap ErrCorrupt: ErrUnknownKey (no wrapper has the value's key ID; the
// error names it) or ErrNotSealed (a plain value without AllowPlain). A key
// service's own failure, such as a network error, is returned as it is.
// No error text holds any part of a token or a key.
package codec
