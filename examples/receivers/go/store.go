package main

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
)

// <doc:store>
// store is the out file; the dedupe set is rebuilt from it on start.
type store struct {
	mu   sync.Mutex
	seen map[string]bool
	file *os.File
}

func openStore(path string) (*store, error) {
	s := &store{seen: map[string]bool{}}
	text, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, line := range bytes.Split(text, []byte("\n")) {
		var rec struct {
			WebhookID string `json:"webhook_id"`
		}
		if json.Unmarshal(line, &rec) == nil { // else a torn last line
			s.seen[rec.WebhookID] = true
		}
	}
	if s.file, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return nil, err
	}
	if len(text) > 0 && !bytes.HasSuffix(text, []byte("\n")) {
		_, err = s.file.Write([]byte("\n"))
	}
	return s, err
}

func (s *store) has(webhookID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[webhookID]
}

func (s *store) add(webhookID, kid string, event json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[webhookID] { // a retry raced us here: stored once
		return nil
	}
	line, err := json.Marshal(map[string]any{"webhook_id": webhookID, "kid": kid, "event": event})
	if err != nil {
		return err
	}
	if _, err := s.file.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := s.file.Sync(); err != nil { // on disk before the 2xx
		return err
	}
	s.seen[webhookID] = true
	return nil
}

// </doc:store>
