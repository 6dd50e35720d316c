"""The bundled demo county site (示例县) served by ``monitor demo`` and crawled by the test-suite."""
