"""FedIPR's sign watermark: keys, embedding loss, detection, and the attacks it must survive."""
