#!/usr/bin/env python3
"""The web console in a real browser (headless Chromium through selenium) against a real
`spool serve` running the demo's jobs: the overview shows the topics and its charts move; a
group's lag falls as a consumer runs; a group's offsets are reset; the Jobs page of the demo's
photos counts its jobs by state and lists a retrying job with its attempts and last error; a job's page shows its state
for each group, dead for a group that dead-lettered it though its dead letter is gone; a dead letter redriven leaves
the list and its job is back in its topic, and (with --worker) a redriven job runs to the end; a
topic config is changed from its page; a record value holding <script> is shown as text and
never run. Screenshots of each page go to --screenshots. Every wait is bounded."""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from spool_server import SpoolServer  # noqa: E402

XSS = '<script>window.__spoolXss = 1</script><img src=x onerror="window.__spoolXss = 2">'
# A job key and a last error as a producer or a failing job could write them: text, never markup.
JOB_KEY = '<img src=x onerror="window.__spoolXss = 3">'
JOB_ERROR = "resize failed: <b>out of memory</b>"


def wait_for(description, condition, timeout=30, interval=0.25):
    """Polls `condition` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (NoSuchElementException, StaleElementReferenceException, ValueError) as error:  # not (re)rendered yet
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {description} ({last_error})")


def text(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def click_in_row(driver, row_selector, button_selector, description):
    """Clicks a button of a table row, finding the row again on each try: the console redraws its
    tables as data comes, so a row found a moment ago may be gone (StaleElementReferenceException).
    A click that raised did not happen, so retrying never clicks twice."""
    def attempt():
        driver.find_element(By.CSS_SELECTOR, row_selector).find_element(By.CSS_SELECTOR, button_selector).click()
        return True
    wait_for(description, attempt)


def browser():
    options = webdriver.ChromeOptions()
    options.add_argument("--headless=new")
    options.add_argument("--no-sandbox")
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument("--window-size=1400,1000")
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(path):
            options.binary_location = path
            break
    driver_path = next((p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.path.exists(p)), None)
    driver = webdriver.Chrome(options=options, service=Service(driver_path) if driver_path else None)
    driver.set_page_load_timeout(30)
    return driver


class Producer(threading.Thread):
    """Produces a few records every half second until stopped, so that the charts have traffic."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stopping = threading.Event()

    def run(self):
        count = 0
        while not self.stopping.is_set():
            lines = "".join(f"tick-{count + i}\n" for i in range(20))
            count += 20
            subprocess.run([self.server.spool, "produce", "console-ticks", "--broker", self.server.bootstrap], input=lines,
                           capture_output=True, text=True, timeout=60)
            self.stopping.wait(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spool", required=True)
    parser.add_argument("--screenshots", default=None)
    parser.add_argument("--worker", default=None, help="spool-job-worker, to see a redriven job finish")
    arguments = parser.parse_args()
    shots = arguments.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)

    def screenshot(driver, name):
        if shots:
            driver.save_screenshot(os.path.join(shots, name + ".png"))

    server = SpoolServer(arguments.spool)
    producer = Producer(server)
    driver = None
    consumer = None
    try:
        print("demo workload:", server.run("demo", "--users", "100").stdout.strip().splitlines()[-1])
        # A topic for the lag check: 2000 records, and a group that has read one of them.
        server.run("produce", "console-lag", input="".join(f"job-{i}\n" for i in range(2000)))
        server.run("consume", "console-lag", "--group", "console-readers", "--from-beginning", "--count", "1")
        server.run("produce", "console-xss", input=XSS + "\n")
        producer.start()

        driver = browser()
        base = server.url

        # -- the overview: topics, groups, and charts that move
        driver.get(base + "/")
        wait_for("the topics table", lambda: "demo-photos" in text(driver, "#topics-table"))
        wait_for("the groups table", lambda: "console-readers" in text(driver, "#groups-table"))
        wait_for("the dead-letter alert", lambda: "demo-photos.dlq" in text(driver, "#alerts"))
        points = lambda: driver.find_element(By.CSS_SELECTOR, '#chart-records polyline[data-series="recordsInPerSecond"]').get_attribute("points")
        first = wait_for("a records-in line with two points", lambda: points() if len(points().split()) >= 2 else None)
        wait_for("the records-in chart to move", lambda: points() != first, timeout=20)
        wait_for("records in per second above zero", lambda: float(text(driver, "#card-in .value")) > 0, timeout=20)
        screenshot(driver, "overview")
        print("ok: overview shows the topics, the groups and moving charts")

        # -- a group's lag falls as a consumer runs
        driver.get(base + "/#/groups/console-readers")
        start_lag = wait_for("the group's lag", lambda: int(text(driver, "#group-lag").replace(",", "")) or None)
        assert start_lag == 1999, f"lag before the consumer ran: {start_lag}"
        consumer = subprocess.Popen([server.spool, "consume", "console-lag", "--group", "console-readers", "--count", "1999",
                                     "--broker", server.bootstrap], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("the lag to fall to 0", lambda: text(driver, "#group-lag") == "0", timeout=60)
        consumer.wait(timeout=60)
        consumer = None
        wait_for("the group to be empty again", lambda: text(driver, "#group-state") == "Empty", timeout=60)
        screenshot(driver, "group")
        print(f"ok: the lag of console-readers fell from {start_lag} to 0 as the consumer ran")

        # -- reset the group's offsets (with the confirmation)
        driver.find_element(By.CSS_SELECTOR, '#reset-to option[value="earliest"]').click()
        driver.find_element(By.CSS_SELECTOR, "#reset-form button[type=submit]").click()
        WebDriverWait(driver, 10).until(expected_conditions.alert_is_present()).accept()
        wait_for("the reset message", lambda: "→ 0" in text(driver, "#reset-message"))
        wait_for("the lag back at 2000", lambda: text(driver, "#group-lag") == "2,000")
        print("ok: the reset moved console-readers to the earliest offset (lag 2000)")

        # -- the Jobs page of the demo's photos: counts by state, a retrying job with its attempts and
        # last error, a scheduled one. The demo has run every job by now, so two are held for an
        # hour as a worker's retry and a scheduler would leave them.
        due_ms = int(time.time() * 1000) + 3_600_000
        server.run("produce", "demo-photos", "--key", JOB_KEY, "--header", "spool-job-id=resize-retry", "--header", f"spool-deliver-at={due_ms}",
                   "--header", "spool-attempt=3", "--header", "spool-last-error=" + JOB_ERROR, input="{}\n")
        server.run("produce", "demo-photos", "--header", "spool-job-id=resize-later", "--header", f"spool-deliver-at={due_ms}", input="{}\n")
        driver.get(base + "/#/jobs")
        wait_for("the jobs table", lambda: "demo-photos" in text(driver, "#jobs-table"))
        driver.get(base + "/#/jobs/demo-photos")
        wait_for("the dead count", lambda: int(text(driver, "#count-dead .value").replace(",", "")) >= 1)
        wait_for("one retrying and one scheduled", lambda: text(driver, "#count-retrying .value") == "1" and text(driver, "#count-scheduled .value") == "1")
        row = wait_for("the retrying job", lambda: driver.find_elements(By.CSS_SELECTOR, '#jobs-retrying tbody tr[data-id="resize-retry"]'))[0]
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        assert cells[0] == "resize-retry" and cells[1] == JOB_KEY, cells
        assert cells[2] == "2", f"attempts made: {cells}"
        assert cells[3].startswith(time.strftime("%Y-", time.gmtime(due_ms / 1000))), f"next run: {cells}"
        assert cells[4] == JOB_ERROR, f"last error: {cells}"
        assert driver.find_elements(By.CSS_SELECTOR, '#jobs-scheduled tbody tr[data-id="resize-later"]'), text(driver, "#jobs-scheduled")
        assert "resizers-" in text(driver, "#job-groups"), text(driver, "#job-groups")
        # The demo and the two jobs above were stored within the last minute: a rate, not a dash.
        wait_for("the enqueue rate", lambda: re.search(r"[0-9]", text(driver, "#jobs-rate").split(":")[-1]))
        assert not driver.find_elements(By.CSS_SELECTOR, "#view img, #view b"), "a job key or error was taken as markup"
        assert driver.execute_script("return window.__spoolXss === undefined"), "a job key ran as script"
        screenshot(driver, "jobs")
        print(f"ok: the Jobs page of demo-photos counts {text(driver, '#count-dead .value')} dead, 1 retrying, 1 scheduled and lists "
              "resize-retry with 2 attempts and its last error as text")

        # -- a job's state for each group, dead for the group that dead-lettered it above its commit point
        # though its dead letter is gone
        job_states_by_group(driver, server, screenshot)

        # -- dead letters: redrive one, see it leave the list and its job back in its topic
        driver.get(base + "/#/jobs")
        wait_for("the jobs table", lambda: "demo-photos" in text(driver, "#jobs-table"))
        driver.get(base + "/#/dead-letters/demo-photos")
        # Read inside the wait: the table may be redrawn between finding a row and reading it.
        letter, row_text = wait_for("a dead letter", lambda: next(
            ((row.get_attribute("data-id"), row.text) for row in driver.find_elements(By.CSS_SELECTOR, "#dlq-table tbody tr[data-id]")), None))
        before = int(text(driver, "#dlq-total").replace(",", ""))
        assert "corrupt" in row_text, row_text
        screenshot(driver, "dead-letters")
        photos_before = records_of(server, "demo-photos")
        click_in_row(driver, f'#dlq-table tbody tr[data-id="{letter}"]', "button.redrive-one", f"redrive of {letter} clicked")
        wait_for("the redrive message", lambda: "Sent back 1 job" in text(driver, "#dlq-message"))
        wait_for("the dead letter to leave the list",
                 lambda: not driver.find_elements(By.CSS_SELECTOR, f'#dlq-table tbody tr[data-id="{letter}"]'))
        assert int(text(driver, "#dlq-total").replace(",", "")) == before - 1
        wait_for("the job back in demo-photos", lambda: records_of(server, "demo-photos") == photos_before + 1)
        print(f"ok: dead letter {letter} redriven: it left the list and its job is back in demo-photos")

        # -- a redriven job runs to the end: a worker dead-letters a poison job, the console sends it
        # back, and the worker (now without the poison) finishes it
        if arguments.worker:
            finish_a_redriven_job(driver, server, arguments.worker, screenshot)

        # -- a record value holding <script> is text, not markup, and never runs
        driver.get(base + "/#/topics/console-xss")
        # The text is read inside the wait: the table may be drawn again between finding the cell
        # and reading it.
        value = wait_for("the record", lambda: text(driver, "#records-table td.value pre"))
        assert value == XSS, value
        assert not driver.find_elements(By.CSS_SELECTOR, "#records-table img, #records-table script")
        assert driver.execute_script("return window.__spoolXss === undefined"), "the record's script ran"
        screenshot(driver, "topic")

        # -- change a topic config from its page (with the confirmation)
        driver.find_element(By.CSS_SELECTOR, '#config-name option[value="retention.ms"]').click()
        driver.find_element(By.CSS_SELECTOR, "#config-value").send_keys("7200000")
        driver.find_element(By.CSS_SELECTOR, "#config-form button[type=submit]").click()
        WebDriverWait(driver, 10).until(expected_conditions.alert_is_present()).accept()
        wait_for("the new retention.ms", lambda: "7200000" in text(driver, '#configs-table tr[data-config="retention.ms"]'))
        print("ok: retention.ms of console-xss set to 7200000 from the topic page")
        print("ok: a record holding <script> and an onerror <img> is shown as text and did not run")
        print("console browser test passed")
    except (AssertionError, TimeoutException) as error:
        if driver:
            screenshot(driver, "failure")
        print("FAILED:", error)
        print(open(server.log_path).read()[-4000:])
        sys.exit(1)
    finally:
        producer.stopping.set()
        if consumer and consumer.poll() is None:
            consumer.kill()
            consumer.wait()
        if driver:
            driver.quit()
        producer.join(timeout=60)
        server.stop()


def finish_a_redriven_job(driver, server, worker_path, screenshot):
    """spool-job-worker runs 20 jobs with job-5 as poison until job-5 is dead-lettered; the
    console redrives it; a worker without the poison then runs it, and the group catches up."""
    work_dir = os.path.join(server.data, "worker")
    os.makedirs(work_dir)
    runs = os.path.join(work_dir, "runs")
    broker = ["--broker", server.bootstrap]
    subprocess.run([worker_path, "enqueue", "--count", "20", "--keys", "4", *broker], check=True, capture_output=True, timeout=60)

    def start(*extra):
        return subprocess.Popen([worker_path, "work", "--group", "console-workers", "--store", os.path.join(work_dir, "store"), "--runs", runs,
                                 *extra, *broker], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(process):
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def dead_letters():
        result = subprocess.run([worker_path, "dead-letters", *broker], capture_output=True, text=True, timeout=60)
        return result.stdout.split()

    poisoned = start("--poison", "job-5")
    try:
        wait_for("job-5 dead-lettered", lambda: "job-5" in dead_letters(), timeout=60, interval=0.5)
    finally:
        stop(poisoned)
    healthy = start()
    try:
        driver.get(server.url + "/#/dead-letters/crash-steps")
        wait_for("job-5 in the list, with its error", lambda: "poison" in text(driver, '#dlq-table tbody tr[data-id="job-5"]'))
        assert not any(line.startswith("job-5 ") for line in open(runs)), "job-5 ran before it was redriven"
        click_in_row(driver, '#dlq-table tbody tr[data-id="job-5"]', "button.redrive-one", "redrive of job-5 clicked")
        wait_for("job-5 to leave the list", lambda: not driver.find_elements(By.CSS_SELECTOR, '#dlq-table tbody tr[data-id="job-5"]'))
        wait_for("job-5 to run to the end", lambda: any(line.startswith("job-5 ") for line in open(runs)), timeout=60)
        driver.get(server.url + "/#/groups/console-workers")
        wait_for("console-workers caught up", lambda: text(driver, "#group-lag") == "0", timeout=60)
        screenshot(driver, "worker-group")
    finally:
        stop(healthy)
    print("ok: job-5, dead-lettered by its worker, was redriven from the console and then ran to the end")


def job_states_by_group(driver, server, screenshot):
    """Three jobs in console-marks: group console-markers committed offset 1 with a mark that it
    dead-lettered mark-2 (offset 2), and no dead letter of it is in any dead-letter topic (as when
    it was deleted or aged out); console-finishers committed past all three. The job page shows
    mark-2 dead for the markers and done for the finishers, and mark-1 queued for the markers.
    The commits are standalone commits with metadata, as a worker's, made with kafka-python:
    confluent-kafka's Python binding sends the metadata with a trailing NUL byte, which no
    worker writes and the mark's offsets do not parse through."""
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
    server.run("topic", "create", "console-marks", "--partitions", "1")
    for i in range(3):
        server.run("produce", "console-marks", "--header", f"spool-job-id=mark-{i}", input="{}\n")
    for group, offset, metadata in (("console-markers", 1, "spool-dead:2"), ("console-finishers", 3, "")):
        consumer = KafkaConsumer(bootstrap_servers=server.bootstrap, group_id=group, enable_auto_commit=False)
        try:
            consumer.commit({TopicPartition("console-marks", 0): OffsetAndMetadata(offset, metadata, -1)})
        finally:
            consumer.close()

    def states():
        rows = driver.find_elements(By.CSS_SELECTOR, "#job-detail-groups tbody tr[data-group]")
        return {row.get_attribute("data-group"): row.find_elements(By.TAG_NAME, "td")[1].text for row in rows}

    # From the topic's page: the job id typed into its form opens the job's page.
    driver.get(server.url + "/#/jobs/console-marks")
    wait_for("the groups of console-marks", lambda: "console-markers" in text(driver, "#job-groups"))
    driver.find_element(By.CSS_SELECTOR, "#job-id").send_keys("mark-2")
    driver.find_element(By.CSS_SELECTOR, "#job-open button[type=submit]").click()
    wait_for("the page of mark-2", lambda: text(driver, "#job-detail-id") == "mark-2")
    wait_for("mark-2 dead for console-markers, done for console-finishers",
             lambda: states() == {"console-markers": "dead", "console-finishers": "done"})
    place = text(driver, '#job-detail-groups tr[data-group="console-markers"]')
    assert "[0]@2" in place, place
    assert "none of the topic's" in text(driver, "#job-detail-states"), text(driver, "#job-detail-states")
    screenshot(driver, "job-by-group")
    driver.get(server.url + "/#/jobs/console-marks/mark-1")
    wait_for("mark-1 queued for console-markers", lambda: text(driver, "#job-detail-id") == "mark-1"
             and states() == {"console-markers": "queued", "console-finishers": "done"})
    print("ok: the job page shows mark-2 dead for console-markers (its dead letter gone) and done for console-finishers, "
          "and mark-1 queued for console-markers")


def records_of(server, topic):
    """The records stored in `topic`, from the API."""
    with urllib.request.urlopen(f"{server.url}/api/v1/overview", timeout=10) as response:
        return next(t["records"] for t in json.load(response)["topics"] if t["name"] == topic)


if __name__ == "__main__":
    main()
