# YOLOv5 oracle modules. The package must be importable as `models` (put
# scripts/ref/yolov5 on sys.path) because ultralytics checkpoints pickle
# their classes as models.common.* and models.yolo.*.
