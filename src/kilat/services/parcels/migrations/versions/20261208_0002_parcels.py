"""parcels: customers, couriers, orders, shipments, assignments, route stops, timeline,
telemetry, tracking sessions, webhooks, audit, flags, settings, jobs, reports, ads

The four append-only streams are range-partitioned on PostgreSQL (their partitions are made by
0003 and then, ahead of time, by the partition maintenance job); on SQLite they are plain tables
with the same columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.idempotency import create_idempotency_table, drop_idempotency_table
from kilat.platform.models import UTCDateTime
from kilat.services.parcels.partitions import stream_table

revision = "0002"
down_revision = "0001"

TABLES = ("courier_assignments", "route_stops", "tracking_sessions", "order_items", "shipments",
          "report_runs", "orders", "ad_impressions", "ads", "api_audit_logs", "background_jobs",
          "courier_location_events", "courier_location_hourly", "courier_shift_logs", "couriers",
          "customers", "delivery_addresses", "dispatch_reports", "feature_flags", "scheduled_jobs",
          "shipment_events", "system_settings", "webhook_attempts", "webhook_events", "webhooks")


def upgrade() -> None:
    create_idempotency_table(op.get_bind())
    stream_table('ad_impressions', 'occurred_at',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', UTCDateTime(), nullable=False),
    sa.Column('ad_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('session_id', sa.String(length=100), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', 'occurred_at', name=('pk_ad_impressions'))
    )
    op.create_index('ix_ad_impressions_ad', 'ad_impressions', ['ad_id', 'occurred_at'], unique=False)
    op.create_table('ads',
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('media_url', sa.String(length=2000), nullable=True),
    sa.Column('target_rules', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=True),
    sa.Column('ends_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_ads'))
    )
    op.create_table('api_audit_logs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=12), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_api_audit_logs'))
    )
    op.create_index('ix_api_audit_logs_created', 'api_audit_logs', ['created_at'], unique=False)
    op.create_index('ix_api_audit_logs_target', 'api_audit_logs', ['table_name', 'target_id'], unique=False)
    op.create_table('background_jobs',
    sa.Column('queue', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('available_at', UTCDateTime(), nullable=False),
    sa.Column('locked_until', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_background_jobs')),
    sa.UniqueConstraint('dedupe_key', name=('uq_background_jobs_dedupe_key'))
    )
    op.create_index('ix_background_jobs_due', 'background_jobs', ['queue', 'status', 'available_at'], unique=False)
    stream_table('courier_location_events', 'recorded_at',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.Column('courier_id', sa.Uuid(), nullable=False),
    sa.Column('shipment_id', sa.Uuid(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('speed_kmh', sa.Float(), nullable=True),
    sa.Column('heading_degrees', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id', 'recorded_at', name=('pk_courier_location_events'))
    )
    op.create_index('ix_courier_location_events_courier', 'courier_location_events', ['courier_id', 'recorded_at'], unique=False)
    op.create_table('courier_location_hourly',
    sa.Column('courier_id', sa.Uuid(), nullable=False),
    sa.Column('hour', UTCDateTime(), nullable=False),
    sa.Column('fixes', sa.Integer(), nullable=False),
    sa.Column('first_at', UTCDateTime(), nullable=False),
    sa.Column('last_at', UTCDateTime(), nullable=False),
    sa.Column('min_latitude', sa.Float(), nullable=False),
    sa.Column('max_latitude', sa.Float(), nullable=False),
    sa.Column('min_longitude', sa.Float(), nullable=False),
    sa.Column('max_longitude', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('courier_id', 'hour', name=('pk_courier_location_hourly'))
    )
    op.create_table('courier_shift_logs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('courier_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_courier_shift_logs'))
    )
    op.create_index('ix_courier_shift_logs_at', 'courier_shift_logs', ['at'], unique=False)
    op.create_table('couriers',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('vehicle_type', sa.String(length=20), nullable=False),
    sa.Column('vehicle_plate', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('last_latitude', sa.Float(), nullable=True),
    sa.Column('last_longitude', sa.Float(), nullable=True),
    sa.Column('last_seen_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=('pk_couriers'))
    )
    op.create_table('customers',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('segment', sa.String(length=32), nullable=False),
    sa.Column('marketing_opt_in', sa.Boolean(), nullable=False),
    sa.Column('erased_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=('pk_customers'))
    )
    op.create_table('delivery_addresses',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('line1', sa.String(length=300), nullable=False),
    sa.Column('line2', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_delivery_addresses'))
    )
    op.create_index(op.f('ix_delivery_addresses_customer_id'), 'delivery_addresses', ['customer_id'], unique=False)
    op.create_table('dispatch_reports',
    sa.Column('report_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('generated_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_dispatch_reports')),
    sa.UniqueConstraint('report_date', 'kind', name='uq_dispatch_reports_date_kind')
    )
    op.create_table('feature_flags',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=('pk_feature_flags'))
    )
    op.create_table('orders',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payment_status', sa.String(length=20), nullable=False),
    sa.Column('service_level', sa.String(length=10), nullable=False),
    sa.Column('source_channel', sa.String(length=10), nullable=False),
    sa.Column('pickup', sa.JSON(), nullable=False),
    sa.Column('dropoff', sa.JSON(), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('distance_km', sa.Float(), nullable=False),
    sa.Column('actual_kg', sa.Float(), nullable=False),
    sa.Column('volumetric_kg', sa.Float(), nullable=False),
    sa.Column('chargeable_kg', sa.Float(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('charge_attempt', sa.Integer(), nullable=False),
    sa.Column('charge_id', sa.Uuid(), nullable=True),
    sa.Column('payment_failure', sa.String(length=300), nullable=True),
    sa.Column('paid_at', UTCDateTime(), nullable=True),
    sa.Column('refund_amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=300), nullable=True),
    sa.Column('cancelled_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_orders')),
    sa.UniqueConstraint('charge_id', name=('uq_orders_charge_id'))
    )
    op.create_index('ix_orders_customer_created', 'orders', ['customer_id', 'created_at'], unique=False)
    op.create_index('ix_orders_status_created', 'orders', ['status', 'created_at'], unique=False)
    op.create_table('scheduled_jobs',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('interval_seconds', sa.Integer(), nullable=False),
    sa.Column('next_run_at', UTCDateTime(), nullable=False),
    sa.Column('last_run_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=('pk_scheduled_jobs'))
    )
    stream_table('shipment_events', 'occurred_at',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', UTCDateTime(), nullable=False),
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('actor_role', sa.String(length=12), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', 'occurred_at', name=('pk_shipment_events'))
    )
    op.create_index('ix_shipment_events_shipment', 'shipment_events', ['shipment_id', 'occurred_at'], unique=False)
    op.create_table('system_settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=('pk_system_settings'))
    )
    op.create_table('webhook_attempts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_webhook_attempts'))
    )
    op.create_index(op.f('ix_webhook_attempts_delivery_id'), 'webhook_attempts', ['delivery_id'], unique=False)
    stream_table('webhook_events', 'created_at',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('webhook_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
    sa.Column('locked_until', UTCDateTime(), nullable=True),
    sa.Column('delivered_at', UTCDateTime(), nullable=True),
    sa.Column('replay_of', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id', 'created_at', name=('pk_webhook_events'))
    )
    op.create_index('ix_webhook_events_due', 'webhook_events', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_events_webhook', 'webhook_events', ['webhook_id', 'created_at'], unique=False)
    op.create_table('webhooks',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('disabled_at', UTCDateTime(), nullable=True),
    sa.Column('deleted_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=('pk_webhooks'))
    )
    op.create_index(op.f('ix_webhooks_customer_id'), 'webhooks', ['customer_id'], unique=False)
    op.create_table('order_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('weight_kg', sa.Float(), nullable=False),
    sa.Column('length_cm', sa.Float(), nullable=False),
    sa.Column('width_cm', sa.Float(), nullable=False),
    sa.Column('height_cm', sa.Float(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=('fk_order_items_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=('pk_order_items'))
    )
    op.create_index(op.f('ix_order_items_order_id'), 'order_items', ['order_id'], unique=False)
    op.create_table('report_runs',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['dispatch_reports.id'], name=('fk_report_runs_report_id_dispatch_reports')),
    sa.PrimaryKeyConstraint('id', name=('pk_report_runs'))
    )
    op.create_index(op.f('ix_report_runs_report_id'), 'report_runs', ['report_id'], unique=False)
    op.create_table('shipments',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('tracking_number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('courier_id', sa.Uuid(), nullable=True),
    sa.Column('pickup_latitude', sa.Float(), nullable=False),
    sa.Column('pickup_longitude', sa.Float(), nullable=False),
    sa.Column('dropoff_latitude', sa.Float(), nullable=False),
    sa.Column('dropoff_longitude', sa.Float(), nullable=False),
    sa.Column('promised_at', UTCDateTime(), nullable=False),
    sa.Column('offered_at', UTCDateTime(), nullable=True),
    sa.Column('assigned_at', UTCDateTime(), nullable=True),
    sa.Column('picked_up_at', UTCDateTime(), nullable=True),
    sa.Column('in_transit_at', UTCDateTime(), nullable=True),
    sa.Column('delivered_at', UTCDateTime(), nullable=True),
    sa.Column('failed_at', UTCDateTime(), nullable=True),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('recipient_name', sa.String(length=200), nullable=True),
    sa.Column('proof_photo_key', sa.String(length=300), nullable=True),
    sa.Column('proof_photo_url', sa.String(length=500), nullable=True),
    sa.Column('failure_reason', sa.String(length=300), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=('fk_shipments_order_id_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=('pk_shipments')),
    sa.UniqueConstraint('order_id', name=('uq_shipments_order_id')),
    sa.UniqueConstraint('tracking_number', name=('uq_shipments_tracking_number'))
    )
    op.create_index('ix_shipments_courier_status', 'shipments', ['courier_id', 'status'], unique=False)
    op.create_index(op.f('ix_shipments_customer_id'), 'shipments', ['customer_id'], unique=False)
    op.create_index('ix_shipments_status_promised', 'shipments', ['status', 'promised_at'], unique=False)
    op.create_table('tracking_sessions',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('session_token', sa.Uuid(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=('fk_tracking_sessions_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=('pk_tracking_sessions')),
    sa.UniqueConstraint('order_id', 'session_token', name='uq_tracking_sessions_order_token'),
    sa.UniqueConstraint('session_token', name=('uq_tracking_sessions_session_token'))
    )
    op.create_index(op.f('ix_tracking_sessions_expires_at'), 'tracking_sessions', ['expires_at'], unique=False)
    op.create_table('courier_assignments',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('courier_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('how', sa.String(length=10), nullable=False),
    sa.Column('schedule_sequence', sa.Integer(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=('fk_courier_assignments_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=('pk_courier_assignments'))
    )
    op.create_index('ix_courier_assignments_active_load', 'courier_assignments', ['courier_id', 'status'], unique=False, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('uq_courier_assignments_open_shipment', 'courier_assignments', ['shipment_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
    op.create_table('route_stops',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('stop_type', sa.String(length=10), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('expected_at', UTCDateTime(), nullable=True),
    sa.Column('arrived_at', UTCDateTime(), nullable=True),
    sa.Column('departed_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=('fk_route_stops_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=('pk_route_stops')),
    sa.UniqueConstraint('shipment_id', 'position', name='uq_route_stops_position')
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
    drop_idempotency_table(op.get_bind())
