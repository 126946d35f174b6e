"""kafka-python and aiokafka against spool serve.

For the chosen client: produce N keyed records with acks=all and check each landed on the partition
murmur2 picks; consume half as a group member and commit manually; start a new consumer in the same
group and check it resumes at the committed offsets (reads exactly the other half).
The last line of output is one JSON object.
"""
import argparse, asyncio, json, time

def murmur_partition(key, partitions):
    from kafka.partitioner.default import murmur2
    return (murmur2(key) & 0x7fffffff) % partitions

def with_kafka_python(args):
    from kafka import KafkaConsumer, KafkaProducer
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks='all')
    sent = [(f'key-{i}'.encode(), producer.send(args.topic, key=f'key-{i}'.encode(), value=f'value-{i}'.encode())) for i in range(args.records)]
    producer.flush(30)
    partitions = len(producer.partitions_for(args.topic))
    misplaced = sum(1 for key, future in sent if future.get(10).partition != murmur_partition(key, partitions))
    producer.close()
    def consumer():
        return KafkaConsumer(args.topic, bootstrap_servers=args.bootstrap, group_id=args.group, auto_offset_reset='earliest',
                             enable_auto_commit=False, consumer_timeout_ms=4000)
    first = consumer()
    half = []
    for message in first:
        half.append(message.value.decode())
        if len(half) == args.records // 2: break
    first.commit()
    first.close()
    second = consumer()
    rest = [message.value.decode() for message in second]
    second.close()
    return partitions, misplaced, half, rest

async def aiokafka_run(args):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks='all')
    await producer.start()
    results = []
    for i in range(args.records):
        key = f'key-{i}'.encode()
        results.append((key, await producer.send_and_wait(args.topic, key=key, value=f'value-{i}'.encode())))
    partitions = len(await producer.partitions_for(args.topic))
    await producer.stop()
    misplaced = sum(1 for key, metadata in results if metadata.partition != murmur_partition(key, partitions))
    async def read(limit):
        consumer = AIOKafkaConsumer(args.topic, bootstrap_servers=args.bootstrap, group_id=args.group,
                                    auto_offset_reset='earliest', enable_auto_commit=False)
        await consumer.start()
        values, quiet = [], time.time()
        try:
            while len(values) < limit and time.time() - quiet < 4:
                message = None
                try: message = await asyncio.wait_for(consumer.getone(), 1)
                except asyncio.TimeoutError: continue
                values.append(message.value.decode())
                quiet = time.time()
            await consumer.commit()
        finally:
            await consumer.stop()
        return values
    half = await read(args.records // 2)
    rest = await read(args.records)
    return partitions, misplaced, half, rest

parser = argparse.ArgumentParser()
parser.add_argument('client', choices=['kafka-python', 'aiokafka'])
parser.add_argument('--bootstrap', required=True)
parser.add_argument('--topic', required=True)
parser.add_argument('--group', default='compat')
parser.add_argument('--records', type=int, default=400)
args = parser.parse_args()
if args.client == 'kafka-python':
    partitions, misplaced, half, rest = with_kafka_python(args)
else:
    partitions, misplaced, half, rest = asyncio.run(aiokafka_run(args))
everything = set(half) | set(rest)
print(json.dumps({'partitions': partitions, 'misplaced': misplaced, 'first_read': len(half), 'resumed_read': len(rest),
                  'overlap': len(set(half) & set(rest)), 'distinct': len(everything)}))
