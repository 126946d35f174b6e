"""Spool's broker headers from a plain Kafka client (confluent-kafka) against spool serve.

Produces, to a topic created with dedupe.window.ms:
  - a record held with spool-deliver-at one second ahead, and a plain one;
  - the same spool-idempotency-key twice.
Then consumes and reports when each record became visible. These are the snippets of docs/jobs.md.
The last line of output is one JSON object.
"""
import argparse, json, time
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

parser = argparse.ArgumentParser()
parser.add_argument("--bootstrap", required=True)
args = parser.parse_args()

admin = AdminClient({"bootstrap.servers": args.bootstrap})
admin.create_topics([NewTopic("emails", num_partitions=1, config={"dedupe.window.ms": "3600000"})])["emails"].result(10)

# Join the group first, so the delivery times measured below are the broker's, not the join's.
consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "readers", "auto.offset.reset": "earliest"})
assigned = []
consumer.subscribe(["emails"], on_assign=lambda _, partitions: assigned.extend(partitions))
deadline = time.time() + 20
while not assigned and time.time() < deadline:
    consumer.poll(0.05)

# --- docs/jobs.md: delayed delivery and dedupe from Python ---
producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True, "partitioner": "murmur2_random"})
due = int(time.time() * 1000) + 1000
producer.produce("emails", key="user-42", value=b'{"to":"ada@example.com"}',
                 headers=[("spool-deliver-at", str(due)), ("spool-job-id", "reminder-1")])
for attempt in range(2):  # a retried request from the web app: stored once
    producer.produce("emails", key="user-7", value=b'{"to":"bob@example.com"}',
                     headers=[("spool-idempotency-key", "signup-7"), ("spool-job-id", "signup-7")])
producer.flush(10)
# --- end of snippet ---

seen = {}
deadline = time.time() + 15
# Until the held record shows up, then half a second more for anything that should not be there.
while time.time() < deadline:
    if any(entry["job"] == "reminder-1" for entry in seen.values()):
        deadline = min(deadline, time.time() + 0.5)
    message = consumer.poll(0.02)
    if message is None or message.error():
        continue
    headers = dict(message.headers() or [])
    seen[f"{message.key().decode()}/{message.offset()}"] = {"job": headers.get("spool-job-id", b"").decode(), "at": int(time.time() * 1000)}
consumer.close()
held = [entry for entry in seen.values() if entry["job"] == "reminder-1"]
signups = [entry for entry in seen.values() if entry["job"] == "signup-7"]
print(json.dumps({
    "records": len(seen),
    "signup_copies": len(signups),
    "held_delivered": len(held),
    "held_early_ms": max(0, due - held[0]["at"]) if held else None,
    "held_late_ms": held[0]["at"] - due if held else None,
}))
