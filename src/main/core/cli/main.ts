console.log('upreel: CLI placeholder')
