package main

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// <doc:keys>
// privateKey is one of the customer's keys; alg is the only algorithm it
// accepts, decided by the key type, never by the message.
type privateKey struct {
	key jwk.Key
	alg jwa.KeyEncryptionAlgorithm
}

// loadKeys maps kid -> key. The kid is the RFC 7638 thumbprint of the public
// key, as the server computes it (whatever "kid" the file has; jwx's
// Thumbprint uses the public members only).
func loadKeys(paths []string) (map[string]privateKey, error) {
	keys := map[string]privateKey{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		isPEM := !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
		key, err := jwk.ParseKey(data, jwk.WithPEM(isPEM))
		if err != nil {
			return nil, err
		}
		thumbprint, err := key.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, err
		}
		kid := base64.RawURLEncoding.EncodeToString(thumbprint)
		alg := jwa.ECDH_ES_A256KW()
		if key.KeyType() == jwa.RSA() {
			alg = jwa.RSA_OAEP_256()
		}
		keys[kid] = privateKey{key, alg}
	}
	return keys, nil
}

// </doc:keys>

type receiver struct {
	keys       map[string]privateKey
	secretFile string
	store      *store
}

func (rx *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	w.WriteHeader(rx.receive(r.Header, body))
}

// <doc:receive>
func (rx *receiver) receive(headers http.Header, body []byte) int {
	// 1. Authenticity first: anyone holding your public key can encrypt a forged
	//    event. The library wants one Webhook per secret; any secret may verify.
	verified, err := rx.verify(headers, body)
	if err != nil {
		return http.StatusInternalServerError // the secret file is unreadable
	}
	if !verified {
		return http.StatusUnauthorized
	}
	webhookID := headers.Get("webhook-id")
	if rx.store.has(webhookID) { // at-least-once delivery: a retry of something stored
		return http.StatusNoContent
	}

	// 2. Then decrypt, with the key the JWE header names, allowing only its algorithm.
	header, err := protectedHeader(body)
	if err != nil {
		return http.StatusBadRequest
	}
	k, ok := rx.keys[header.Kid]
	if !ok || header.Enc != "A256GCM" { // unknown kid; jwx takes any enc otherwise
		return http.StatusBadRequest
	}
	plaintext, err := jwe.Decrypt(body, jwe.WithKey(k.alg, k.key))
	if err != nil || !json.Valid(plaintext) {
		return http.StatusBadRequest
	}
	if err := rx.store.add(webhookID, header.Kid, plaintext); err != nil {
		return http.StatusInternalServerError // not stored: let the server retry
	}
	return http.StatusNoContent // 3. Stored, then acknowledged.
}

func (rx *receiver) verify(headers http.Header, body []byte) (bool, error) {
	raw, err := os.ReadFile(rx.secretFile)
	if err != nil {
		return false, err
	}
	for _, secret := range strings.Fields(string(raw)) {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil && wh.Verify(body, headers) == nil { // Verify: ±5 min tolerance
			return true, nil
		}
	}
	return false, nil
}

// </doc:receive>

type jweHeader struct {
	Enc string `json:"enc"`
	Kid string `json:"kid"`
}

// protectedHeader reads the JWE protected header (the first of the five
// base64url parts) without decrypting anything.
func protectedHeader(token []byte) (jweHeader, error) {
	var h jweHeader
	first, _, ok := bytes.Cut(token, []byte("."))
	if !ok {
		return h, errors.New("not a JWE compact serialization")
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(first))
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal(raw, &h)
}
