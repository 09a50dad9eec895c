"""Video analytics as plugins: motion, people, faces, plates, ONNX models; tracking and
rules on tracks."""
