// The live status page: polls /firestarter/status every second and redraws. No dependencies, no build step.
(() => {
  "use strict";
  const statusUrl = "/firestarter/status";
  const keyStorage = "firestarter.apiKey";
  const $ = (id) => document.getElementById(id);
  const svgNs = "http://www.w3.org/2000/svg";

  const percent = (rate) => (rate === null || rate === undefined ? "–" : (rate * 100).toFixed(1) + "%");
  const millis = (ms) => {
    if (ms === null || ms === undefined) return "–";
    return ms < 10 ? ms.toFixed(2) + " ms" : ms < 1000 ? ms.toFixed(0) + " ms" : (ms / 1000).toFixed(2) + " s";
  };
  const duration = (seconds) => {
    const s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return "up " + (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawDeployments(list) {
    const box = $("deployments");
    box.replaceChildren();
    if (list.length === 0) { box.append(el("p", "muted", "None parked.")); return; }
    const max = Math.max(...list.map((d) => d.count));
    for (const d of list) {
      const row = el("div", "bar");
      row.dataset.deployment = d.deployment;
      const name = el("span", "name", d.deployment);
      name.title = d.deployment;
      const track = el("span", "track");
      const fill = el("span", "fill");
      fill.style.display = "block";
      fill.style.width = (100 * d.count / max).toFixed(1) + "%";
      track.append(fill);
      row.append(name, track, el("span", "count", String(d.count)));
      box.append(row);
    }
  }

  function drawChart(series) {
    const svg = $("chart");
    const n = series.warm.length, width = 900, height = 200, slot = width / n;
    const max = Math.max(1, ...series.warm.map((w, i) => w + series.cold[i]));
    svg.replaceChildren();
    const axis = document.createElementNS(svgNs, "line");
    axis.setAttribute("class", "axis");
    axis.setAttribute("x1", "0"); axis.setAttribute("x2", String(width));
    axis.setAttribute("y1", String(height - 0.5)); axis.setAttribute("y2", String(height - 0.5));
    svg.append(axis);
    for (let i = 0; i < n; i++) {
      const warmHeight = height * series.warm[i] / max, coldHeight = height * series.cold[i] / max;
      for (const [cls, y, h, count] of [["warm", height - warmHeight, warmHeight, series.warm[i]],
                                        ["cold", height - warmHeight - coldHeight, coldHeight, series.cold[i]]]) {
        if (h <= 0) continue;
        const rect = document.createElementNS(svgNs, "rect");
        rect.setAttribute("class", cls);
        rect.setAttribute("x", (i * slot + 1).toFixed(1));
        rect.setAttribute("width", Math.max(1, slot - 2).toFixed(1));
        rect.setAttribute("y", y.toFixed(1));
        rect.setAttribute("height", h.toFixed(1));
        const title = document.createElementNS(svgNs, "title");
        title.textContent = count + " " + cls + ", " + Math.round((n - 1 - i) * series.bucketSeconds) + " s ago";
        rect.append(title);
        svg.append(rect);
      }
    }
  }

  function drawConfiguration(config, prefix, list) {
    for (const [key, value] of Object.entries(config)) {
      if (value !== null && typeof value === "object") { drawConfiguration(value, prefix + key + ".", list); continue; }
      list.append(el("dt", "", prefix + key), el("dd", "", String(value)));
    }
  }

  function drawCluster(cluster) {
    $("cluster").hidden = !cluster || !cluster.enabled;
    if (!cluster || !cluster.enabled) return;
    const h = cluster.handOns;
    $("cluster-state").textContent = (cluster.connected ? "Redis connected" : "Redis NOT connected: local only") +
      " · hand-ons " + h.warm + " warm, " + h.miss + " miss, " + h.unknown + " unknown, " + h.unavailable + " unavailable";
    const rows = $("cluster-instances");
    rows.replaceChildren();
    for (const i of cluster.instances) {
      const row = el("tr", i.alive ? "" : "muted");
      row.dataset.instance = i.id;
      const name = (i.url || i.id) + (i.self ? " (this one)" : "") + (i.alive ? "" : " (gone)");
      const to = i.handedOnTo ? i.handedOnTo.warm + " / " + i.handedOnTo.miss + " / " + i.handedOnTo.unknown : "–";
      const from = i.receivedFrom ? i.receivedFrom.warm + " / " + i.receivedFrom.miss : "–";
      row.append(el("td", "", name), el("td", "count", i.parked === null ? "–" : String(i.parked)), el("td", "", to), el("td", "", from));
      rows.append(row);
    }
  }

  function render(status) {
    const state = $("state");
    state.dataset.state = status.draining ? "draining" : "serving";
    state.textContent = status.draining ? "draining" : "serving";
    $("uptime").textContent = duration(status.uptimeSeconds);
    $("parked-total").textContent = String(status.parked.total);
    const d = status.dispatches;
    $("hit-rate").textContent = percent(d["1m"].hitRate);
    $("hit-rate-5m").textContent = percent(d["5m"].hitRate);
    $("hit-rate-15m").textContent = percent(d["15m"].hitRate);
    $("p50").textContent = millis(d["1m"].p50Ms);
    $("p99").textContent = millis(d["1m"].p99Ms);
    $("warm-15m").textContent = String(d["15m"].warm);
    $("cold-15m").textContent = String(d["15m"].cold + d["15m"].forwarded + d["15m"].forwardFailed + d["15m"].unconfirmed);
    $("confirmation-rate").textContent = status.configuration.confirmation.enabled ? percent(d["5m"].confirmationRate) : "off";
    $("unconfirmed-15m").textContent = String(d["15m"].unconfirmed);
    $("rejected-15m").textContent = String(d["15m"].rejected);
    drawDeployments(status.parked.byDeployment);
    drawChart(status.series);
    drawCluster(status.cluster);
    const list = $("configuration");
    list.replaceChildren();
    drawConfiguration(status.configuration, "", list);
    $("error").textContent = "";
    document.body.dataset.updated = String(Date.now());
  }

  async function refresh() {
    try {
      const key = sessionStorage.getItem(keyStorage);
      const response = await fetch(statusUrl, { cache: "no-store", headers: key ? { "X-Api-Key": key } : {} });
      if (response.status === 401) {
        sessionStorage.removeItem(keyStorage);
        const entered = window.prompt("This broker's status needs its API key (Firestarter:Operations:ApiKey):");
        if (entered) sessionStorage.setItem(keyStorage, entered);
        throw new Error("the status needs an API key");
      }
      if (!response.ok) throw new Error("status answered " + response.status);
      render(await response.json());
    } catch (error) {
      $("state").dataset.state = "error";
      $("state").textContent = "unreachable";
      $("error").textContent = String(error.message || error);
    } finally {
      setTimeout(refresh, 1000);
    }
  }

  refresh();
})();
