// Command receiver is a complete sealhook webhook receiver in Go, built only on
// third-party libraries: Standard Webhooks for the signature, go-jose for
// RSA and P-256 keys, and lestrrat-go/jwx for X25519 keys (go-jose v4 does not
// implement X25519).
//
//	go run . --port 0 --key DIR/private.jwk --secret-file PATH [--host 127.0.0.1]
//
// stdout: {"listening": <port>} once, then one line per accepted delivery:
//
//	{"webhook_id": ..., "alg": ..., "kid": ..., "event": <decrypted JSON>}
//
// stderr: {"error": "..."} for every refused request.
// Status: 204 accepted; 401 bad signature (nothing is decrypted); 400 kid
// mismatch or undecryptable body; 503 secret file missing; 405 not a POST;
// 413 body too large. The secret file is read on every request.
package main

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const maxBody = 16 << 20

// decrypter holds the customer's one private key.
type decrypter struct {
	kid     string
	alg     string             // the only algorithm this key accepts
	goJose  *gojose.JSONWebKey // RSA and EC P-256 keys
	jwxKey  jwk.Key            // X25519 keys
	decrypt func(token string) (header protected, plaintext []byte, err error)
}

type protected struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	Kid string `json:"kid"`
}

// peekHeader reads the JWE protected header without decrypting anything.
func peekHeader(token string) (protected, error) {
	var h protected
	first, _, ok := strings.Cut(token, ".")
	if !ok {
		return h, errors.New("not a JWE compact serialization")
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal(raw, &h)
}

func loadKey(path string) (*decrypter, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, err
	}
	d := &decrypter{kid: meta.Kid}
	switch meta.Kty {
	case "RSA", "EC":
		d.alg = "ECDH-ES+A256KW"
		keyAlg := gojose.ECDH_ES_A256KW
		if meta.Kty == "RSA" {
			d.alg, keyAlg = "RSA-OAEP-256", gojose.RSA_OAEP_256
		}
		var k gojose.JSONWebKey
		if err := k.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		if d.kid == "" { // sealhook's kid is the RFC 7638 thumbprint
			pub := k.Public()
			tp, err := pub.Thumbprint(crypto.SHA256)
			if err != nil {
				return nil, err
			}
			d.kid = base64.RawURLEncoding.EncodeToString(tp)
		}
		d.goJose = &k
		d.decrypt = func(token string) (protected, []byte, error) {
			obj, err := gojose.ParseEncryptedCompact(token,
				[]gojose.KeyAlgorithm{keyAlg}, []gojose.ContentEncryption{gojose.A256GCM})
			if err != nil {
				return protected{}, nil, err
			}
			pt, err := obj.Decrypt(d.goJose)
			h := protected{Alg: obj.Header.Algorithm, Enc: "A256GCM", Kid: obj.Header.KeyID}
			return h, pt, err
		}
	case "OKP": // X25519
		d.alg = "ECDH-ES+A256KW"
		k, err := jwk.ParseKey(data)
		if err != nil {
			return nil, err
		}
		if d.kid == "" {
			tp, err := k.Thumbprint(crypto.SHA256)
			if err != nil {
				return nil, err
			}
			d.kid = base64.RawURLEncoding.EncodeToString(tp)
		}
		d.jwxKey = k
		d.decrypt = func(token string) (protected, []byte, error) {
			h, err := peekHeader(token)
			if err != nil {
				return h, nil, err
			}
			if h.Enc != "A256GCM" {
				return h, nil, fmt.Errorf("unexpected enc %q", h.Enc)
			}
			pt, err := jwe.Decrypt([]byte(token), jwe.WithKey(jwa.ECDH_ES_A256KW(), d.jwxKey))
			return h, pt, err
		}
	default:
		return nil, fmt.Errorf("unsupported key type %q", meta.Kty)
	}
	return d, nil
}

var outMu sync.Mutex

func emit(w io.Writer, v any) {
	line, _ := json.Marshal(v)
	outMu.Lock()
	defer outMu.Unlock()
	w.Write(append(line, '\n'))
}

func fail(w http.ResponseWriter, status int, msg string) {
	emit(os.Stderr, map[string]any{"error": msg, "status": status})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func handler(key *decrypter, secretFile string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			fail(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			fail(w, http.StatusRequestEntityTooLarge, "body too large or unreadable")
			return
		}
		raw, err := os.ReadFile(secretFile) // per request: it may appear or rotate
		secret := strings.TrimSpace(string(raw))
		if err != nil || secret == "" {
			fail(w, http.StatusServiceUnavailable, "secret file missing or empty")
			return
		}

		// 1. Authenticity first: anyone holding the public key can encrypt.
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			fail(w, http.StatusUnauthorized, "signature verification failed: "+err.Error())
			return
		}

		// 2. Only then decrypt, with the key named by kid.
		token := strings.TrimSpace(string(body))
		h, err := peekHeader(token)
		if err != nil {
			fail(w, http.StatusBadRequest, "not a JWE: "+err.Error())
			return
		}
		if h.Kid != key.kid {
			fail(w, http.StatusBadRequest, fmt.Sprintf("unknown kid %q (have %s)", h.Kid, key.kid))
			return
		}
		if h.Alg != key.alg || h.Enc != "A256GCM" {
			fail(w, http.StatusBadRequest, fmt.Sprintf("unexpected alg/enc %q/%q", h.Alg, h.Enc))
			return
		}
		h, plaintext, err := key.decrypt(token)
		if err != nil {
			fail(w, http.StatusBadRequest, "decryption failed: "+err.Error())
			return
		}
		var event json.RawMessage
		if err := json.Unmarshal(plaintext, &event); err != nil {
			fail(w, http.StatusBadRequest, "plaintext is not JSON: "+err.Error())
			return
		}

		// Print before acknowledging: a 2xx seen by sealhook implies the line is out.
		emit(os.Stdout, map[string]any{
			"webhook_id": r.Header.Get("webhook-id"),
			"alg":        h.Alg,
			"kid":        h.Kid,
			"event":      event,
		})
		w.WriteHeader(http.StatusNoContent)
	}
}

func main() {
	port := flag.Int("port", 0, "TCP port (0 = any free port)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	keyPath := flag.String("key", "", "private JWK (DIR/private.jwk)")
	secretFile := flag.String("secret-file", "", "file holding the whsec_ secret")
	flag.Parse()
	if *keyPath == "" || *secretFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	key, err := loadKey(*keyPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loading key: %v\n", err)
		os.Exit(1)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emit(os.Stdout, map[string]int{"listening": ln.Addr().(*net.TCPAddr).Port})

	srv := &http.Server{Handler: handler(key, *secretFile), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx) // finish in-flight requests, then return
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	<-drained
}
