"""confluent-kafka (librdkafka) against spool serve.

  produce:  an idempotent producer (acks=all) sends N keyed records; prints how many were delivered.
  group:    3 consumers in one group read the topic; mid-way a 4th joins and one leaves. Each commits
            synchronously before giving partitions up, so between them every record is read exactly
            once. Prints counts of records read, distinct, duplicated and missing.
  resume:   one consumer in the same group reads what is left; prints what it read.
  admin:    the AdminClient: list topics, create a topic with configs, grow it, describe and alter
            its configs incrementally, delete records, describe the cluster, list groups, delete
            the topic; prints each step's result ("ok" or the error) and what it saw.
The last line of output is one JSON object.
"""
import argparse, json, threading, time
from confluent_kafka import Consumer, Producer, KafkaError

def produce(args):
    producer = Producer({'bootstrap.servers': args.bootstrap, 'enable.idempotence': True, 'acks': 'all',
                         'partitioner': 'murmur2_random', 'linger.ms': 5})
    delivered, failed = [0], [0]
    def report(error, message):
        if error is None: delivered[0] += 1
        else: failed[0] += 1
    for i in range(args.start, args.start + args.records):
        while True:
            try:
                producer.produce(args.topic, key=f'key-{i % 1000}', value=f'record-{i}', on_delivery=report)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    print(json.dumps({'delivered': delivered[0], 'failed': failed[0], 'unflushed': remaining}))

class Member(threading.Thread):
    def __init__(self, args, name, seen, lock, stop):
        super().__init__(daemon=True)
        self.args, self.name, self.seen, self.lock, self.stop = args, name, seen, lock, stop
        self.leave = threading.Event()
        self.read = 0
    def run(self):
        consumer = Consumer({'bootstrap.servers': self.args.bootstrap, 'group.id': self.args.group, 'client.id': self.name,
                             'auto.offset.reset': 'earliest', 'enable.auto.commit': False, 'session.timeout.ms': 10000,
                             'heartbeat.interval.ms': 500})
        def revoked(c, partitions):
            try: c.commit(asynchronous=False)
            except Exception: pass
        consumer.subscribe([self.args.topic], on_revoke=revoked)
        while not self.stop.is_set() and not self.leave.is_set():
            message = consumer.poll(0.2)
            if message is None or message.error(): continue
            with self.lock: self.seen.append(message.value().decode())
            self.read += 1
            # Work takes a little time, so the rebalances happen while records are still flowing.
            time.sleep(0.0001)
        try: consumer.commit(asynchronous=False)
        except Exception: pass
        consumer.close()

def group(args):
    seen, lock, stop = [], threading.Lock(), threading.Event()
    members = [Member(args, f'member-{i}', seen, lock, stop) for i in range(3)]
    for member in members: member.start()
    deadline = time.time() + args.timeout
    def count():
        with lock: return len(seen)
    while count() < args.records // 3 and time.time() < deadline: time.sleep(0.05)
    late = Member(args, 'member-3', seen, lock, stop)
    late.start()
    while count() < args.records * 2 // 3 and time.time() < deadline: time.sleep(0.05)
    members[0].leave.set()
    members[0].join(30)
    quiet_since = time.time()
    last = count()
    while time.time() < deadline:
        time.sleep(0.2)
        if count() != last: last, quiet_since = count(), time.time()
        elif count() >= args.records and time.time() - quiet_since > 2: break
    stop.set()
    for member in members[1:] + [late]: member.join(30)
    values = set(seen)
    expected = {f'record-{i}' for i in range(args.start, args.start + args.records)}
    print(json.dumps({'read': len(seen), 'distinct': len(values), 'duplicated': len(seen) - len(values),
                      'missing': len(expected - values), 'unexpected': len(values - expected),
                      'per_member': {member.name: member.read for member in members + [late]}}))

def resume(args):
    consumer = Consumer({'bootstrap.servers': args.bootstrap, 'group.id': args.group, 'auto.offset.reset': 'earliest',
                         'enable.auto.commit': False})
    consumer.subscribe([args.topic])
    values, deadline, quiet = [], time.time() + args.timeout, None
    while time.time() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            if values and quiet and time.time() - quiet > 2: break
            continue
        if message.error(): continue
        values.append(message.value().decode())
        quiet = time.time()
    consumer.commit(asynchronous=False)
    consumer.close()
    numbers = sorted(int(v.split('-')[1]) for v in values)
    print(json.dumps({'read': len(values), 'first': numbers[0] if numbers else None, 'last': numbers[-1] if numbers else None,
                      'distinct': len(set(values))}))

def admin(args):
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions, NewTopic,
                                       ResourceType)
    client = AdminClient({'bootstrap.servers': args.bootstrap})
    steps, seen = {}, {}
    def step(name, action):
        try:
            action()
            steps[name] = 'ok'
        except Exception as error:
            steps[name] = str(error)
    topic = args.topic
    def listed(): seen['topics'] = sorted(client.list_topics(timeout=10).topics)
    def create():
        client.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                       config={'retention.ms': '3600000', 'compression.type': 'zstd'})])[topic].result(10)
    def grow():
        client.create_partitions([NewPartitions(topic, 4)])[topic].result(10)
        seen['partitions'] = len(client.list_topics(topic, timeout=10).topics[topic].partitions)
    resource = ConfigResource(ResourceType.TOPIC, topic)
    def describe(): seen['retention.ms'] = client.describe_configs([resource])[resource].result(10)['retention.ms'].value
    def alter():
        change = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
            ConfigEntry('retention.ms', '7200000', incremental_operation=AlterConfigOpType.SET)])
        client.incremental_alter_configs([change])[change].result(10)
        seen['retention.ms after'] = client.describe_configs([resource])[resource].result(10)['retention.ms'].value
    def delete_records():
        result = client.delete_records([TopicPartition(topic, 0, 0)])
        seen['low watermark'] = list(result.values())[0].result(10).low_watermark
    def cluster(): seen['nodes'] = len(client.describe_cluster().result(10).nodes)
    def groups(): seen['groups'] = len(client.list_consumer_groups().result(10).valid)
    def delete():
        client.delete_topics([topic])[topic].result(10)
        seen['after delete'] = topic in client.list_topics(timeout=10).topics
    for name, action in [('list_topics', listed), ('create_topics', create), ('create_partitions', grow),
                         ('describe_configs', describe), ('incremental_alter_configs', alter), ('delete_records', delete_records),
                         ('describe_cluster', cluster), ('list_consumer_groups', groups), ('delete_topics', delete)]:
        step(name, action)
    print(json.dumps({'steps': steps, 'seen': seen}))

parser = argparse.ArgumentParser()
parser.add_argument('phase', choices=['produce', 'group', 'resume', 'admin'])
parser.add_argument('--bootstrap', required=True)
parser.add_argument('--topic', required=True)
parser.add_argument('--group', default='compat')
parser.add_argument('--records', type=int, default=100000)
parser.add_argument('--start', type=int, default=0)
parser.add_argument('--timeout', type=float, default=120)
args = parser.parse_args()
{'produce': produce, 'group': group, 'resume': resume, 'admin': admin}[args.phase](args)
