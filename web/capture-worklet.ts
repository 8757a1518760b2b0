/**
 * Microphone frames to the page, 20 ms at a time, at the AudioContext's rate, with the audio
 * clock time of their first sample.
 */
class Capture extends AudioWorkletProcessor {
  private buffer = new Float32Array(Math.round(sampleRate * 0.02));
  private filled = 0;
  private time = 0;

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    let from = 0;
    while (from < channel.length) {
      if (this.filled === 0) this.time = currentTime + from / sampleRate;
      const n = Math.min(channel.length - from, this.buffer.length - this.filled);
      this.buffer.set(channel.subarray(from, from + n), this.filled);
      this.filled += n;
      from += n;
      if (this.filled === this.buffer.length) {
        const samples = this.buffer.slice();
        this.port.postMessage({ samples, time: this.time }, [samples.buffer]);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('capture', Capture);
