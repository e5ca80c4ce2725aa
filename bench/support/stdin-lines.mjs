// The baselines' line splitter: stdin as UTF-8, `onLine` per line however long, `onEnd` after the last.
export function eachStdinLine(onLine, onEnd) {
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    let nl = chunk.indexOf('\n');
    if (nl === -1) {
      pending += chunk;
      return;
    }
    onLine(pending + chunk.slice(0, nl));
    let start = nl + 1;
    while ((nl = chunk.indexOf('\n', start)) !== -1) {
      onLine(chunk.slice(start, nl));
      start = nl + 1;
    }
    pending = chunk.slice(start);
  });
  process.stdin.on('end', onEnd);
}
