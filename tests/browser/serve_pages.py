"""`nabla serve` in a real browser: headless Chromium driven over WebDriver (selenium).

    python tests/browser/serve_pages.py NABLA_BINARY SCREENSHOT_DIR

Starts `nabla serve --port 0`, then on the playground: trains until the loss curve has at least
5 points and the decision boundary has changed; picks a ReLU output with cross-entropy and sees
the refusal; trains it anyway beside the sound output and sees its loss go NaN while the fused
head learns; follows the link to the derivation and finds it typeset. On the runs page, a
`nabla train --metrics` run appears and grows while it trains. Each page is saved as a
screenshot and checked not to be blank. Exits non-zero on the first failure.
"""

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BINARY, SHOTS = Path(sys.argv[1]), Path(sys.argv[2])
SHOTS.mkdir(parents=True, exist_ok=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="nabla-chromium-"))
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def screenshot(driver, name):
    png = driver.get_screenshot_as_png()
    (SHOTS / name).write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB").resize((350, 250))
    colours = len(set(image.tobytes()[i:i + 3] for i in range(0, 350 * 250 * 3, 3)))
    assert colours > 50, f"{name} looks blank ({colours} colours)"
    print(f"  saved {SHOTS / name} ({colours} colours)")


def wait(driver, what, seconds=60):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(lambda d: what(d))


def canvas_picture(driver, element_id):
    return driver.execute_script(f"return document.getElementById('{element_id}').toDataURL()")


def data(driver, element_id, name):
    return driver.execute_script(
        f"const e = document.getElementById('{element_id}'); return e ? e.dataset.{name} : null")


def main():
    runs = Path(tempfile.mkdtemp(prefix="nabla-runs-"))
    server = subprocess.Popen([BINARY, "serve", "--port", "0", "--runs", runs],
                              stdout=subprocess.PIPE, text=True)
    trainer = None
    driver = None
    try:
        url = server.stdout.readline().split()[2]
        print("server:", url)
        driver = browser()

        # 1. The playground learns: the curve grows and the boundary changes.
        driver.get(url + "/")
        wait(driver, lambda d: len(Select(d.find_element(By.ID, "data")).options) > 0)
        Select(driver.find_element(By.ID, "data")).select_by_value("spirals")
        driver.find_element(By.ID, "hidden").clear()
        driver.find_element(By.ID, "hidden").send_keys("24,24")
        driver.find_element(By.ID, "learning_rate").send_keys("0.01")
        for field, value in [("epochs", "150"), ("delay_ms", "20")]:
            driver.find_element(By.ID, field).clear()
            driver.find_element(By.ID, field).send_keys(value)
        driver.find_element(By.ID, "train").click()
        wait(driver, lambda d: int(data(d, "boundary-0", "epoch") or 0) >= 1)
        first = canvas_picture(driver, "boundary-0")
        wait(driver, lambda d: int(data(d, "loss-curve", "points") or 0) >= 5)
        wait(driver, lambda d: int(data(d, "boundary-0", "epoch") or 0) >= 20)
        assert canvas_picture(driver, "boundary-0") != first, "the boundary picture did not change"
        print("  playground: curve has", data(driver, "loss-curve", "points"), "points; boundary changed")
        wait(driver, lambda d: "finished" in d.find_element(By.ID, "status-0").text, 120)
        status = driver.find_element(By.ID, "status-0").text
        assert "test accuracy" in status, status
        print("  playground:", status)
        screenshot(driver, "playground.png")

        # 2. A ReLU output with cross-entropy is refused, with the reason and the fix.
        Select(driver.find_element(By.ID, "output")).select_by_value("relu")
        Select(driver.find_element(By.ID, "loss")).select_by_value("cross-entropy")
        driver.find_element(By.ID, "train").click()
        refusal = wait(driver, lambda d: d.find_element(By.ID, "refusal") if d.find_element(
            By.ID, "refusal").is_displayed() else None)
        assert "not a probability model" in refusal.text and "Fix:" in refusal.text, refusal.text
        print("  refusal shown:", refusal.text.splitlines()[0])
        screenshot(driver, "playground-refused.png")

        # 3. Trained anyway: the clipped run's loss goes NaN, the fused head learns beside it.
        driver.find_element(By.ID, "allow_unsafe").click()
        driver.find_element(By.ID, "epochs").clear()
        driver.find_element(By.ID, "epochs").send_keys("40")
        driver.find_element(By.ID, "train").click()
        wait(driver, lambda d: "finished" in d.find_element(By.ID, "status-1").text, 120)
        wait(driver, lambda d: d.find_element(By.ID, "status-0").text.split(" ")[0] in
             ("finished", "failed"), 120)
        unsafe = driver.find_element(By.ID, "status-0").text
        sound = driver.find_element(By.ID, "status-1").text
        assert "NaN" in unsafe, unsafe
        accuracy = float(sound.split("test accuracy ")[1].split()[0])
        assert accuracy > 0.6, sound
        print("  unsafe:", unsafe.splitlines()[0])
        print("  fused: ", sound.splitlines()[0])
        screenshot(driver, "playground-unsafe.png")

        # 4. The derivation, typeset.
        driver.find_element(By.ID, "allow_unsafe").click()
        driver.find_element(By.ID, "train").click()
        wait(driver, lambda d: d.find_element(By.ID, "refusal").is_displayed())
        driver.find_element(By.ID, "derivation-link").click()
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#result .katex")) >= 1)
        steps = driver.find_elements(By.CSS_SELECTOR, "#steps li .katex")
        assert len(steps) >= 3, len(steps)
        checks = driver.find_elements(By.CSS_SELECTOR, "#steps li .check")
        assert len(checks) >= len(steps) - 1 and "random points" in checks[0].text, len(checks)
        result = driver.find_element(By.ID, "result").text
        assert "∂" in result or "partial" in result, result
        assert "ReLU" in driver.find_element(By.ID, "advice").text
        print(f"  explain: {len(steps)} typeset steps, {len(checks)} with their check; result rendered")
        screenshot(driver, "explain.png")

        # 5. The runs page overlays finished runs and follows one that `nabla train
        # --metrics` is writing.
        for optimizer, rate in [("sgd", "0.05"), ("adam", "0.001")]:
            subprocess.run([BINARY, "train", "--data", "digits", "--epochs", "25", "--optimizer",
                            optimizer, "--lr", rate, "--metrics", runs / f"digits-{optimizer}.jsonl"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        trainer = subprocess.Popen([BINARY, "train", "--data", "spirals", "--samples", "100000",
                                    "--hidden", "256,256", "--epochs", "25", "--threads", "1",
                                    "--metrics", runs / "spirals.jsonl"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        driver.get(url + "/runs")
        epochs = lambda d, name: int(d.execute_script(
            f"const e = document.querySelector('li[data-run=\"{name}\"]'); "
            "return e ? e.dataset.epochs : 0") or 0)
        wait(driver, lambda d: epochs(d, "spirals.jsonl") >= 1)
        seen = epochs(driver, "spirals.jsonl")
        wait(driver, lambda d: epochs(d, "spirals.jsonl") > seen)
        grown = epochs(driver, "spirals.jsonl")
        assert trainer.poll() is None, "the run ended before the page saw it grow"
        print(f"  runs: spirals.jsonl grew from {seen} to {grown} epochs while training")
        assert epochs(driver, "digits-sgd.jsonl") == 25 and epochs(driver, "digits-adam.jsonl") == 25
        trainer.wait(timeout=300)
        wait(driver, lambda d: epochs(d, "spirals.jsonl") == 25)
        screenshot(driver, "runs.png")
        print("browser test passed")
    finally:
        if trainer and trainer.poll() is None:
            trainer.kill()
        if driver:
            driver.quit()
        server.send_signal(2)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
