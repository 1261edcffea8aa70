package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// campaignItem stores a campaign as its JSON document beside the few
// attributes that are read or updated on their own.
type campaignItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Kind    string `dynamodbav:"kind"`
	State   string `dynamodbav:"state"`
	Doc     string `dynamodbav:"doc"`
	Created string `dynamodbav:"createdAt"`
}

// PutCampaign stores a new campaign; it fails if the id is taken.
func (s *Store) PutCampaign(ctx context.Context, c campaign.Campaign) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("marshal campaign: %w", err)
	}
	item, err := attributevalue.MarshalMap(campaignItem{
		PK: tenantPK(c.Tenant), SK: campaignSK(c.ID), Kind: "campaign",
		State: string(c.State), Doc: string(doc), Created: stamp(c.Created),
	})
	if err != nil {
		return fmt.Errorf("marshal campaign item: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return fmt.Errorf("put campaign %s: %w", c.ID, err)
	}
	return nil
}

// Campaign reads a tenant's campaign. Another tenant's id is
// ErrNotFound, exactly as an unknown one.
func (s *Store) Campaign(ctx context.Context, tenant, id string) (campaign.Campaign, error) {
	var it campaignItem
	if err := s.get(ctx, tenantPK(tenant), campaignSK(id), &it); err != nil {
		return campaign.Campaign{}, fmt.Errorf("get campaign %s: %w", id, err)
	}
	var c campaign.Campaign
	if err := json.Unmarshal([]byte(it.Doc), &c); err != nil {
		return campaign.Campaign{}, fmt.Errorf("decode campaign %s: %w", id, err)
	}
	c.Tenant, c.ID, c.State = tenant, id, campaign.State(it.State)
	return c, nil
}

// SetCampaignState moves a campaign from one of from to to; it returns
// ErrConflict when the campaign is in none of them.
func (s *Store) SetCampaignState(ctx context.Context, tenant, id string, to campaign.State, from ...campaign.State) error {
	vals := map[string]types.AttributeValue{":to": str(string(to))}
	cond := "attribute_exists(pk)"
	if len(from) > 0 {
		cond += " AND #st IN ("
		for i, f := range from {
			if i > 0 {
				cond += ", "
			}
			n := fmt.Sprintf(":f%d", i)
			vals[n] = str(string(f))
			cond += n
		}
		cond += ")"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(tenantPK(tenant), campaignSK(id)),
		UpdateExpression:          aws.String("SET #st = :to"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "state"},
		ExpressionAttributeValues: vals,
	})
	if conditionFailed(err) {
		return fmt.Errorf("campaign %s to %s: %w", id, to, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("campaign %s to %s: %w", id, to, err)
	}
	return nil
}

// ChannelConfig is a tenant's connection to one channel's provider.
// Secrets live in Secrets Manager; only the secret's ARN is stored.
type ChannelConfig struct {
	PK        string            `dynamodbav:"pk" json:"-"`
	SK        string            `dynamodbav:"sk" json:"-"`
	Tenant    string            `dynamodbav:"tenant" json:"-"`
	Channel   string            `dynamodbav:"channel" json:"channel"`
	Provider  string            `dynamodbav:"provider" json:"provider"`
	Settings  map[string]string `dynamodbav:"settings" json:"settings,omitempty"`
	SecretARN string            `dynamodbav:"secretArn" json:"secretArn"`
	Updated   string            `dynamodbav:"updatedAt" json:"updatedAt"`
}

// PutChannel stores a tenant's channel configuration, replacing any.
func (s *Store) PutChannel(ctx context.Context, c ChannelConfig) error {
	c.PK, c.SK, c.Updated = tenantPK(c.Tenant), channelSK(c.Channel), stamp(time.Time{})
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		return fmt.Errorf("marshal channel: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
	})
	if err != nil {
		return fmt.Errorf("put channel %s: %w", c.Channel, err)
	}
	return nil
}

// Channel reads a tenant's channel configuration.
func (s *Store) Channel(ctx context.Context, tenant, ch string) (ChannelConfig, error) {
	var c ChannelConfig
	if err := s.get(ctx, tenantPK(tenant), channelSK(ch), &c); err != nil {
		return ChannelConfig{}, fmt.Errorf("get channel %s: %w", ch, err)
	}
	return c, nil
}

// SetAudienceKey points a draft campaign's audience at an uploaded CSV.
func (s *Store) SetAudienceKey(ctx context.Context, tenant, id, key string) error {
	c, err := s.Campaign(ctx, tenant, id)
	if err != nil {
		return err
	}
	c.Audience = campaign.Audience{S3Key: key}
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("marshal campaign: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf(tenantPK(tenant), campaignSK(id)),
		UpdateExpression:          aws.String("SET doc = :d"),
		ConditionExpression:       aws.String("#st = :draft"),
		ExpressionAttributeNames:  map[string]string{"#st": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(string(doc)), ":draft": str(string(campaign.Draft))},
	})
	if conditionFailed(err) {
		return fmt.Errorf("set audience of %s: %w", id, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set audience of %s: %w", id, err)
	}
	return nil
}
