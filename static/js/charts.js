// A small chart module over Chart.js (installed from npm by `make`, served at /vendor).
// The UMD build registers every chart type and defines globalThis.Chart when imported.
import "/vendor/chart.umd.min.js";

const { Chart } = globalThis;
const PALETTE = ["#1f6feb", "#2e7d32", "#c62828", "#ef6c00", "#6a1b9a", "#00838f"];

function color(index, alpha = "") {
  return PALETTE[index % PALETTE.length] + alpha;
}

function lineDataset(line, index) {
  return {
    type: "line",
    label: line.label,
    data: line.percent ? line.values.map((v) => (v == null ? null : v * 100)) : line.values,
    borderColor: color(index + 3),
    backgroundColor: color(index + 3),
    yAxisID: line.percent ? "percent" : "count",
    pointRadius: 2,
    spanGaps: false,
    order: 1,
  };
}

function scalesFor(lines) {
  const scales = { x: { ticks: { autoSkip: true, maxRotation: 0 } }, y: { beginAtZero: true, position: "left" } };
  if (lines.some((l) => l.percent)) {
    scales.percent = { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                       ticks: { callback: (v) => `${v}%` } };
  }
  if (lines.some((l) => !l.percent)) {
    scales.count = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
  }
  return scales;
}

/**
 * Bars on the left axis and lines on the right one (a percent axis 0-100% for shares,
 * a count axis otherwise), over shared x labels.
 * spec: {labels: [...], bars: [{label, values}], lines: [{label, values, percent}]}.
 * Undefined values (null) leave gaps: "no service level" is not 0%.
 */
export function comboChart(canvas, spec) {
  const bars = spec.bars.map((bar, index) => ({
    type: "bar", label: bar.label, data: bar.values, backgroundColor: color(index, "b3"), yAxisID: "y", order: 2,
  }));
  const chart = new Chart(canvas, {
    data: { labels: spec.labels, datasets: [...bars, ...spec.lines.map(lineDataset)] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: scalesFor(spec.lines),
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: (item) => {
              const percent = item.dataset.yAxisID === "percent";
              const value = item.raw == null ? "–" : percent ? `${item.raw.toFixed(1)}%` : item.formattedValue;
              return `${item.dataset.label}: ${value}`;
            },
          },
        },
      },
    },
  });
  canvas.dataset.drawn = "true";
  return chart;
}
