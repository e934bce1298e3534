// Report pages: draw the over-time chart from the JSON the server put beside it.
// The table below the chart holds the same numbers, so the page reads without it.
import { comboChart } from "./charts.js";

const data = document.getElementById("report-chart-data");
const canvas = document.getElementById("report-chart");
if (data && canvas) {
  comboChart(canvas, JSON.parse(data.textContent));
}
