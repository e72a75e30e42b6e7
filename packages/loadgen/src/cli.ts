process.stdout.write('tidewatch-loadgen: not implemented yet\n');
