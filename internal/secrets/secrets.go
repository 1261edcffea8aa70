// Package secrets keeps tenants' provider credentials in AWS Secrets
// Manager: the API writes them when a channel is connected, senders and
// webhooks read them by ARN, with a short cache so a warm function does
// not ask for every message.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// API is the part of the Secrets Manager client used here.
type API interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// Values are one secret's named values, such as accessToken and
// appSecret.
type Values map[string]string

// Store reads and writes secrets under a name prefix.
type Store struct {
	api    API
	prefix string
	ttl    time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	v    Values
	at   time.Time // when it was read
	till time.Time
}

// New returns a store that names secrets prefix+tenant/channel and
// caches reads for ttl.
func New(api API, prefix string, ttl time.Duration) *Store {
	return &Store{api: api, prefix: prefix, ttl: ttl, cache: map[string]cached{}}
}

// Name is the secret name for a tenant's channel.
func (s *Store) Name(tenant, channel string) string {
	return s.prefix + tenant + "/" + channel
}

// Put creates or replaces the tenant's channel secret and returns its
// ARN.
func (s *Store) Put(ctx context.Context, tenant, channel string, v Values) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode secret: %w", err)
	}
	name := s.Name(tenant, channel)
	out, err := s.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(string(body)),
	})
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		put, err := s.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(name), SecretString: aws.String(string(body)),
		})
		if err != nil {
			return "", fmt.Errorf("update secret %s: %w", name, err)
		}
		s.forget(aws.ToString(put.ARN))
		return aws.ToString(put.ARN), nil
	}
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// Get returns the values of the secret with this ARN.
func (s *Store) Get(ctx context.Context, arn string) (Values, error) {
	s.mu.Lock()
	c, ok := s.cache[arn]
	s.mu.Unlock()
	if ok && time.Now().Before(c.till) {
		return c.v, nil
	}
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(arn),
	})
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	var v Values
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return nil, fmt.Errorf("decode secret: %w", err)
	}
	now := time.Now()
	s.mu.Lock()
	s.cache[arn] = cached{v: v, at: now, till: now.Add(s.ttl)}
	s.mu.Unlock()
	return v, nil
}

// Refresh reads the secret again unless the cached copy is younger than
// minAge, and reports whether it did. A webhook whose signature fails
// against a cached credential calls it: the tenant may just have
// rotated the credential, and waiting out the cache would refuse the
// provider's genuine calls for minutes. minAge keeps a stream of forged
// calls from turning into a stream of Secrets Manager reads.
func (s *Store) Refresh(ctx context.Context, arn string, minAge time.Duration) (Values, bool, error) {
	s.mu.Lock()
	c, ok := s.cache[arn]
	s.mu.Unlock()
	if ok && time.Since(c.at) < minAge {
		return c.v, false, nil
	}
	s.forget(arn)
	v, err := s.Get(ctx, arn)
	return v, err == nil, err
}

func (s *Store) forget(arn string) {
	s.mu.Lock()
	delete(s.cache, arn)
	s.mu.Unlock()
}
