// Loading these first breaks the require(esm) cycle that
// @willsoto/nestjs-prometheus (CommonJS) otherwise hits on @nestjs/common.
import 'reflect-metadata';
import '@nestjs/common';
import '@nestjs/core';
