// Write to stdout and wait until it is flushed; a closed pipe (`| head`) ends quietly.

export function writeOut(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => (error.code === 'EPIPE' ? resolve() : reject(error));
    process.stdout.once('error', onError);
    process.stdout.write(data, () => {
      process.stdout.off('error', onError);
      resolve();
    });
  });
}
